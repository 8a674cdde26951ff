import type * as z from 'zod/mini';
import { Deleted, ErrorResponse, MessagesPage, MessagesQuery, ThreadIdParam, ThreadsPage, ThreadsQuery } from './schemas.js';

/** A REST route as the apps validate it and the OpenAPI document describes it. */
export interface RouteSpec {
  method: 'get' | 'delete';
  /** OpenAPI style: `/threads/{id}`. */
  path: string;
  summary: string;
  params?: z.ZodMiniObject;
  query?: z.ZodMiniObject;
  responses: Record<number, { schema: z.ZodMiniType; description: string }>;
}

const errors = {
  400: { schema: ErrorResponse, description: 'Invalid parameters' },
  401: { schema: ErrorResponse, description: 'Missing or invalid bearer token' },
  500: { schema: ErrorResponse, description: 'Internal error (no details)' },
  503: { schema: ErrorResponse, description: 'The database is unavailable for now (see Retry-After)' },
};
const notFound = { schema: ErrorResponse, description: "Unknown, or another user's, thread" };

export const listThreadsRoute = {
  method: 'get',
  path: '/threads',
  summary: "The caller's threads, newest activity first; with q, those matching a full-text search, most relevant first",
  query: ThreadsQuery,
  responses: {
    200: { schema: ThreadsPage, description: 'A page of threads' },
    429: { schema: ErrorResponse, description: 'With q: as many of your searches are running as one user may run at once (see Retry-After)' },
    ...errors,
  },
} satisfies RouteSpec;

export const deleteThreadRoute = {
  method: 'delete',
  path: '/threads/{id}',
  summary: 'Delete a thread with its messages, feedback and attachments',
  params: ThreadIdParam,
  responses: { 200: { schema: Deleted, description: 'Deleted' }, 404: notFound, ...errors },
} satisfies RouteSpec;

export const listMessagesRoute = {
  method: 'get',
  path: '/threads/{id}/messages',
  summary: "A thread's messages as plain text (hidden context excluded)",
  params: ThreadIdParam,
  query: MessagesQuery,
  responses: { 200: { schema: MessagesPage, description: 'A page of messages' }, 404: notFound, ...errors },
} satisfies RouteSpec;

export const REST_ROUTES: readonly RouteSpec[] = [listThreadsRoute, deleteThreadRoute, listMessagesRoute];
