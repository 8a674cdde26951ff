export {
  ChatKitServer,
  CANCELLED_NOTE,
  CONTEXT_TOO_LONG_MESSAGE,
  INTERRUPTED_NOTE,
  type ActionHandler,
  type ChatKitResult,
  type ChatKitServerOptions,
  type RequestOptions,
} from './chatkit-server.js';
export { parseRequest } from './parse-request.js';
export { clientEvent, clientItem, clientThread, encodeSse } from './client-json.js';
export { createChatKitServerFromEnv } from './from-env.js';
export {
  attachmentPolicyFromEnv,
  checkUpload,
  DEFAULT_ATTACHMENT_POLICY,
  deleteThreadAndFiles,
  isImageType,
  mediaType,
  type AttachmentPolicy,
  type AttachmentStore,
  type UploadRequest,
} from './attachment-store.js';
