import { z } from 'zod';
import { TooManyRequestsError } from '../errors.js';
import { serverTool } from './tools.js';

export const SEARCH_CONVERSATIONS = 'search_conversations';
const HITS = 5;

/**
 * Lets the agent look through the user's other conversations (full-text search, their threads
 * only). The model gets each hit's thread id, title, date and best-matching passage.
 */
export const searchConversations = serverTool({
  name: SEARCH_CONVERSATIONS,
  description:
    "Search the user's earlier conversations with you by words they or you wrote. Use it when the user refers to something discussed before. " +
    'Query syntax: plain words (all must appear), "an exact phrase", OR between alternatives, -word to exclude. Words match as written.',
  parameters: z.object({ query: z.string().min(1).max(200).describe('The words to look for') }),
  execute: async ({ query }, context) => {
    const hits = await context.store
      .searchThreads({ q: query, limit: HITS, excludeThreadId: context.thread.id }, context.requestContext)
      .catch((error: unknown) => {
        // The user's other searches hold every slot: the model can say so, the turn need not fail.
        if (error instanceof TooManyRequestsError) return null;
        throw error;
      });
    if (!hits) return JSON.stringify({ results: [], note: 'Searching is busy with the user’s other searches right now; try again in a moment.' });
    return JSON.stringify({
      results: hits.data.map((hit) => ({ thread_id: hit.id, title: hit.title, date: hit.matched_at, passage: hit.snippet })),
      ...(hits.data.length === 0 ? { note: 'No earlier conversation matches these words.' } : {}),
    });
  },
});
