export { ChatKitServer, CANCELLED_NOTE, type ActionHandler, type AttachmentStore, type ChatKitResult, type ChatKitServerOptions } from './chatkit-server.js';
export { clientEvent, clientItem, clientThread, encodeSse } from './client-json.js';
export { createChatKitServerFromEnv } from './from-env.js';
