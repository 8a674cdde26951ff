import * as z from 'zod';
import { Id, IsoTimestamp, JsonObject, type Page } from './common.js';
import type { ThreadItem } from './items.js';

export const ThreadStatus = z.discriminatedUnion('type', [
  z.object({ type: z.literal('active') }),
  z.object({ type: z.literal('locked'), reason: z.string().optional() }),
  z.object({ type: z.literal('closed'), reason: z.string().optional() }),
]);
export type ThreadStatus = z.infer<typeof ThreadStatus>;

export const ThreadMetadata = z.object({
  id: Id,
  title: z.string().optional(),
  created_at: IsoTimestamp,
  status: ThreadStatus,
  allowed_image_domains: z.array(z.string()).optional(),
  /** Server-side only: never returned to clients. */
  metadata: JsonObject,
});
export type ThreadMetadata = z.infer<typeof ThreadMetadata>;

/** A thread as the store lists it: the protocol's metadata plus when it last had activity. */
export type StoredThread = ThreadMetadata & { updated_at: string };

export type Thread = ThreadMetadata & { items: Page<ThreadItem> };
