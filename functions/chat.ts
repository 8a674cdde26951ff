import { chatkitApp } from '../shared/http/chatkit-app.js';
import { createChatKitServerFromEnv } from '../shared/server/index.js';
import { routeRuntime } from './runtime/runtime.js';
import { streamingHandler } from './runtime/streaming.js';
import { observeTurn } from './runtime/turn-metrics.js';

const { store, api, logger } = await routeRuntime('chatkit-chat');
const chatkit = createChatKitServerFromEnv(store, process.env, logger);

/**
 * POST /chatkit, streamed with Lambda response streaming. Each turn's figures become metrics
 * (observeTurn); the model's token usage has its hook, recordModelUsage, for a responder that
 * reports it.
 */
export const handler = streamingHandler(chatkitApp({ chatkit, observeTurn, ...api }), logger);
