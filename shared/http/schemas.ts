import { z } from '@hono/zod-openapi';
import { MAX_PAGE_SIZE } from '../store/pagination.js';

export const ErrorResponse = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .openapi('Error');

export const ThreadIdParam = z.object({
  id: z.string().min(1).max(255).openapi({ param: { name: 'id', in: 'path' }, example: 'thr_4f1c2a' }),
});

const limit = z.coerce
  .number()
  .int()
  .positive()
  .optional()
  .openapi({ description: `Page size (default 20; larger values are served ${MAX_PAGE_SIZE})`, example: 20 });
const after = z
  .string()
  .min(1)
  .max(255)
  .optional()
  .openapi({ description: 'The `next_cursor` of the previous page' });

export const ThreadsQuery = z.object({
  limit,
  after,
  q: z
    .string()
    .trim()
    .min(1)
    .max(500)
    .optional()
    .openapi({
      description:
        'Full-text search over the text of your threads. Words match as written (no stemming, any language); "a phrase", OR and -word work as in a web search. With q, threads come most relevant first, each with a snippet.',
      example: 'invoice march',
    }),
});
export const MessagesQuery = z.object({
  limit,
  after,
  order: z.enum(['asc', 'desc']).default('desc').openapi({ description: 'desc: newest first (default)' }),
});

export const ThreadSummary = z
  .object({
    id: z.string(),
    title: z.string().nullable(),
    created_at: z.string().openapi({ format: 'date-time' }),
    updated_at: z.string().openapi({ format: 'date-time', description: 'Latest activity' }),
    snippet: z.string().optional().openapi({ description: 'With q: the best-matching passage, matched words in **bold**' }),
    matched_at: z.string().optional().openapi({ format: 'date-time', description: 'With q: when the best-matching message was written' }),
  })
  .openapi('ThreadSummary');

export const ThreadsPage = z
  .object({ threads: z.array(ThreadSummary), has_more: z.boolean(), next_cursor: z.string().nullable() })
  .openapi('ThreadsPage');

export const Message = z
  .object({
    id: z.string(),
    type: z.string().openapi({ example: 'user_message' }),
    content: z.string().nullable().openapi({ description: "The item's plain text; null when it has none" }),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Message');

export const MessagesPage = z
  .object({ messages: z.array(Message), has_more: z.boolean(), next_cursor: z.string().nullable() })
  .openapi('MessagesPage');

export const Deleted = z.object({ status: z.literal('deleted') }).openapi('Deleted');
