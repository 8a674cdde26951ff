import { Agent } from '@openai/agents-core';
import { z } from 'zod';
import { NotFoundError } from '../errors.js';
import type { Assistant } from './assistant-options.js';
import type { AgentContext } from './context.js';
import { searchConversations, SEARCH_CONVERSATIONS } from './search-tool.js';
import { defaultToolTask, type ToolTaskFor } from './stream-events.js';
import { getTime } from './time-tool.js';
import { serverTool, stopAtClientToolCall } from './tools.js';

// The assistant every conversation talks to. This is the file a team edits: its instructions,
// its tools (serverTool / clientTool from ./tools.js, widgets through the AgentContext), the
// tasks shown while tools run, handoffs and guardrails, and the options beside the agent
// (AssistantOptions: how the history reads to the model, citations, where generated images go,
// cancellation). README "Your agent" shows each with an example.

export const DEFAULT_ASSISTANT_INSTRUCTIONS = [
  'You are a helpful assistant.',
  `When the user refers to something from an earlier conversation, look it up with ${SEARCH_CONVERSATIONS} before answering, and say which conversation it came from.`,
].join(' ');

export const RENAME_CONVERSATION = 'rename_conversation';

/**
 * A tool that asks first. Renaming this conversation just happens; renaming another one changes
 * something the user may not be looking at, so each such call waits for the user's approval:
 * the turn ends with a confirmation widget, and the tool runs only once approved.
 */
export const renameConversation = serverTool({
  name: RENAME_CONVERSATION,
  description: `Renames one of the user's conversations: this one, or another one found with ${SEARCH_CONVERSATIONS} (by its thread_id).`,
  parameters: z.object({
    thread_id: z.string().min(1).max(255).describe('The conversation to rename'),
    title: z.string().min(1).max(100).describe('Its new title'),
  }),
  needsApproval: ({ thread_id }, context) => thread_id !== context.thread.id,
  approvalPrompt: ({ thread_id, title }) => ({
    title: 'Rename a conversation',
    details: [
      { type: 'Text', value: `New title: ${title}`, size: 'sm' },
      { type: 'Caption', value: `Conversation ${thread_id}` },
    ],
  }),
  execute: async ({ thread_id, title }, context) => {
    if (thread_id === context.thread.id) {
      context.thread.title = title; // the server saves it and tells the client
      return `This conversation is now titled "${title}".`;
    }
    try {
      const thread = await context.store.loadThread(thread_id, context.requestContext);
      await context.store.saveThread({ ...thread, title }, context.requestContext);
    } catch (error) {
      if (error instanceof NotFoundError) return `No conversation of the user has the id ${thread_id}.`;
      throw error;
    }
    return `The conversation ${thread_id} is now titled "${title}".`;
  },
});

export interface AssistantConfig {
  /** The model the assistant's agent uses (OPENAI_MODEL); a client may pick another from OPENAI_MODELS. */
  model: string;
  /** ASSISTANT_INSTRUCTIONS, when set, replaces the default instructions. */
  instructions?: string | undefined;
}

export function createAssistant({ model, instructions }: AssistantConfig): Assistant {
  return {
    agent: new Agent<AgentContext>({
      name: 'Assistant',
      instructions: instructions || DEFAULT_ASSISTANT_INSTRUCTIONS,
      // No modelSettings: the SDK's defaults for whichever model runs (this one, or the one a client
      // picks), under ASSISTANT_REASONING_*. Nothing is stored at OpenAI whatever the settings say.
      model,
      tools: [searchConversations, getTime, renameConversation],
      // Client tools end the turn; the client's output starts the next one.
      toolUseBehavior: stopAtClientToolCall,
    }),
    toolTask: assistantToolTask,
  };
}

/** The tasks shown while the assistant's tools run. */
export const assistantToolTask: ToolTaskFor = (call) => {
  if (call.name === SEARCH_CONVERSATIONS) {
    const query = parseArguments(call.arguments).query;
    return { type: 'custom', title: 'Searching your conversations', icon: 'search', status_indicator: 'loading', ...(typeof query === 'string' ? { content: query } : {}) };
  }
  return defaultToolTask(call);
};

function parseArguments(json: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(json);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
