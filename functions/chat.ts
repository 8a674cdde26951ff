import { chatkitApp } from '../shared/http/chatkit-app.js';
import { createChatKitServerFromEnv } from '../shared/server/index.js';
import { attachmentStoreFromEnv } from './runtime/attachments.js';
import { routeRuntime } from './runtime/runtime.js';
import { streamingHandler } from './runtime/streaming.js';
import { observeTurn, recordModelUsage } from './runtime/turn-metrics.js';

const { store, api, logger } = await routeRuntime('chatkit-chat');
const chatkit = createChatKitServerFromEnv({
  store,
  env: process.env,
  log: logger,
  attachments: attachmentStoreFromEnv(process.env),
  onUsage: recordModelUsage,
  // Lambda's runtime never tells a streaming function that its caller left
  // (aws/aws-lambda-nodejs-runtime-interface-client#145): no stop button that would not stop.
  seesClientLeave: false,
});

/** POST /chatkit, streamed with Lambda response streaming. Each turn's figures become metrics. */
export const handler = streamingHandler(chatkitApp({ chatkit, observeTurn, ...api }), logger);
