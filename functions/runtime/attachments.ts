import type { AttachmentStore } from '../../shared/server/attachment-store.js';
import { attachmentsS3Client, loadS3Sdk, S3AttachmentStore } from './s3-attachments.js';

/**
 * The S3 attachment store when the stack gave the function a bucket (ATTACHMENTS_BUCKET). The S3
 * SDK loads on the first attachment a request touches, not at cold start: most turns have none.
 */
export function attachmentStoreFromEnv(env: NodeJS.ProcessEnv): AttachmentStore | undefined {
  const bucket = env.ATTACHMENTS_BUCKET;
  if (!bucket) return undefined;
  let loading: Promise<AttachmentStore> | undefined;
  const load = () =>
    (loading ??= loadS3Sdk().then(
      (sdk) => new S3AttachmentStore(sdk, attachmentsS3Client(sdk), bucket),
      (error: unknown) => {
        loading = undefined; // a failed load is tried again by the next request
        throw error;
      },
    ));
  return {
    createAttachment: async (...args) => (await load()).createAttachment(...args),
    verifyUpload: async (...args) => (await load()).verifyUpload(...args),
    attach: async (...args) => (await load()).attach(...args),
    previewUrl: async (...args) => (await load()).previewUrl(...args),
    modelSource: async (...args) => (await load()).modelSource(...args),
    size: async (...args) => (await load()).size(...args),
    read: async (...args) => (await load()).read(...args),
    deleteAttachment: async (...args) => (await load()).deleteAttachment(...args),
  };
}
