import * as z from 'zod/mini';
import { MAX_PAGE_SIZE } from '../store/pagination.js';

// The REST routes' inputs and outputs. zod's mini build keeps these out of the way of the
// functions' cold start (~20 KiB bundled); openapi.ts turns the same schemas into the document.

/** Documents a schema for the OpenAPI document; an `id` makes it a named component. */
function doc<T extends z.ZodMiniType>(schema: T, meta: z.core.GlobalMeta): T {
  z.globalRegistry.add(schema, meta);
  return schema;
}

export const ErrorResponse = doc(z.object({ error: z.object({ code: z.string(), message: z.string() }) }), { id: 'Error' });

export const ThreadIdParam = z.object({
  id: doc(z.string().check(z.minLength(1), z.maxLength(255)), { example: 'thr_4f1c2a' }),
});

const limit = doc(z.optional(z.coerce.number().check(z.int(), z.positive())), {
  description: `Page size (default 20; larger values are served ${MAX_PAGE_SIZE})`,
  example: 20,
});
const after = doc(z.optional(z.string().check(z.minLength(1), z.maxLength(255))), { description: 'The `next_cursor` of the previous page' });

export const ThreadsQuery = z.object({
  limit,
  after,
  q: doc(z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(500))), {
    description:
      'Full-text search over the text of your threads (the first 100,000 characters of each message). Words match as written (no stemming, any language); "a phrase", OR and -word work as in a web search, and a query needs a word to find (-word alone finds nothing). With q, threads come most relevant first, each with a snippet.',
    example: 'invoice march',
  }),
});
export const MessagesQuery = z.object({
  limit,
  after,
  order: doc(z._default(z.enum(['asc', 'desc']), 'desc'), { description: 'desc: newest first (default)' }),
});

const timestamp = (description?: string) => doc(z.string(), { format: 'date-time', ...(description ? { description } : {}) });

export const ThreadSummary = doc(
  z.object({
    id: z.string(),
    title: z.nullable(z.string()),
    created_at: timestamp(),
    updated_at: timestamp('Latest activity'),
    snippet: doc(z.optional(z.string()), { description: 'With q: the best-matching passage, matched words in **bold**' }),
    matched_at: doc(z.optional(z.string()), { format: 'date-time', description: 'With q: when the best-matching message was written' }),
  }),
  { id: 'ThreadSummary' },
);

export const ThreadsPage = doc(z.object({ threads: z.array(ThreadSummary), has_more: z.boolean(), next_cursor: z.nullable(z.string()) }), { id: 'ThreadsPage' });

export const Message = doc(
  z.object({
    id: z.string(),
    type: doc(z.string(), { example: 'user_message' }),
    content: doc(z.nullable(z.string()), { description: "The item's plain text; null when it has none" }),
    created_at: timestamp(),
  }),
  { id: 'Message' },
);

export const MessagesPage = doc(z.object({ messages: z.array(Message), has_more: z.boolean(), next_cursor: z.nullable(z.string()) }), { id: 'MessagesPage' });

export const Deleted = doc(z.object({ status: z.literal('deleted') }), { id: 'Deleted' });
