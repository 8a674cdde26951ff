import { chatkitApp } from '../shared/http/chatkit-app.js';
import { createChatKitServerFromEnv } from '../shared/server/index.js';
import { attachmentStoreFromEnv } from './runtime/attachments.js';
import { routeRuntime } from './runtime/runtime.js';
import { streamingHandler } from './runtime/streaming.js';

const { store, api, logger } = await routeRuntime('chatkit-chat');
const chatkit = createChatKitServerFromEnv(store, process.env, logger, undefined, attachmentStoreFromEnv(process.env));

/** POST /chatkit, streamed with Lambda response streaming. */
export const handler = streamingHandler(chatkitApp({ chatkit, ...api }));
