import { handle } from 'hono/aws-lambda';
import { listThreadsApp } from '../shared/http/rest-apps.js';
import { instrumented } from './runtime/invocation.js';
import { routeRuntime } from './runtime/runtime.js';

const { store, api, logger } = await routeRuntime('chatkit-threads-list');

/** GET /threads */
export const handler = instrumented(handle(listThreadsApp({ store, ...api })), logger);
