import { handle } from 'hono/aws-lambda';
import { listThreadsApp } from '../shared/http/rest-apps.js';
import { routeRuntime } from './runtime/runtime.js';

const { store, api } = await routeRuntime('chatkit-threads-list');

/** GET /threads */
export const handler = handle(listThreadsApp({ store, ...api }));
