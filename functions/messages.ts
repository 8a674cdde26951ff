import { handle } from 'hono/aws-lambda';
import { listMessagesApp } from '../shared/http/rest-apps.js';
import { instrumented } from './runtime/invocation.js';
import { routeRuntime } from './runtime/runtime.js';

const { store, api, logger } = await routeRuntime('chatkit-messages');

/** GET /threads/{id}/messages */
export const handler = instrumented(handle(listMessagesApp({ store, ...api })), logger);
