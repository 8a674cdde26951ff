import { handle } from 'hono/aws-lambda';
import { deleteThreadApp } from '../shared/http/rest-apps.js';
import { attachmentStoreFromEnv } from './runtime/attachments.js';
import { instrumented } from './runtime/invocation.js';
import { routeRuntime } from './runtime/runtime.js';

const { store, api, logger } = await routeRuntime('chatkit-threads-delete');

/** DELETE /threads/{id} */
export const handler = instrumented(handle(deleteThreadApp({ store, attachments: attachmentStoreFromEnv(process.env), ...api })), logger);
