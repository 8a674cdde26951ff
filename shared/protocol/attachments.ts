import * as z from 'zod';
import { Id, JsonObject } from './common.js';

export const UploadDescriptor = z.object({
  url: z.url(),
  method: z.enum(['POST', 'PUT']),
  headers: z.record(z.string(), z.string()).optional(),
});

const AttachmentBase = {
  id: Id,
  name: z.string(),
  mime_type: z.string(),
  /** Two-phase upload instructions; absent once uploaded. */
  upload_descriptor: UploadDescriptor.optional(),
  /** Set when a user message that carries the attachment is saved. */
  thread_id: z.string().optional(),
  /** Integration-only: stored, never returned to clients. */
  metadata: JsonObject.optional(),
};

export const FileAttachment = z.object({ ...AttachmentBase, type: z.literal('file') });
export const ImageAttachment = z.object({
  ...AttachmentBase,
  type: z.literal('image'),
  preview_url: z.url(),
});
export const Attachment = z.discriminatedUnion('type', [FileAttachment, ImageAttachment]);
export type Attachment = z.infer<typeof Attachment>;
