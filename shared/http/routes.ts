import { createRoute } from '@hono/zod-openapi';
import { Deleted, ErrorResponse, MessagesPage, MessagesQuery, ThreadIdParam, ThreadsPage, ThreadsQuery } from './schemas.js';

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const errors = {
  400: json(ErrorResponse, 'Invalid parameters'),
  401: json(ErrorResponse, 'Missing or invalid bearer token'),
  500: json(ErrorResponse, 'Internal error (no details)'),
};
const security = [{ bearerAuth: [] }];

export const listThreadsRoute = createRoute({
  method: 'get',
  path: '/threads',
  summary: "The caller's threads, newest activity first; with q, those matching a full-text search, most relevant first",
  security,
  request: { query: ThreadsQuery },
  responses: { 200: json(ThreadsPage, 'A page of threads'), ...errors },
});

export const deleteThreadRoute = createRoute({
  method: 'delete',
  path: '/threads/{id}',
  summary: 'Delete a thread with its messages, feedback and attachments',
  security,
  request: { params: ThreadIdParam },
  responses: { 200: json(Deleted, 'Deleted'), 404: json(ErrorResponse, "Unknown, or another user's, thread"), ...errors },
});

export const listMessagesRoute = createRoute({
  method: 'get',
  path: '/threads/{id}/messages',
  summary: "A thread's messages as plain text (hidden context excluded)",
  security,
  request: { params: ThreadIdParam, query: MessagesQuery },
  responses: { 200: json(MessagesPage, 'A page of messages'), 404: json(ErrorResponse, "Unknown, or another user's, thread"), ...errors },
});
