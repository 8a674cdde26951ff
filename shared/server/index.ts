export {
  ChatKitServer,
  CANCELLED_NOTE,
  INTERRUPTED_NOTE,
  type ActionHandler,
  type AttachmentStore,
  type ChatKitResult,
  type ChatKitServerOptions,
  type RequestOptions,
} from './chatkit-server.js';
export { parseRequest } from './parse-request.js';
export { clientEvent, clientItem, clientThread, encodeSse } from './client-json.js';
export { createChatKitServerFromEnv } from './from-env.js';
