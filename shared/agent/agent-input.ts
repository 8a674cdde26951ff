import type { AgentInputItem } from '@openai/agents-core';
import type { ResponseInputContent, ResponseInputItem } from 'openai/resources/responses/responses';

type UserContent = Extract<AgentInputItem, { role: 'user' }>['content'];
type UserPart = Exclude<UserContent, string>[number];

/**
 * toModelInput speaks the Responses API's wire shapes; the Agents SDK reads its own
 * (camelCase, `function_call_result`, system instead of developer) and turns them back into
 * the same wire shapes. Messages and function calls are translated; anything else passes
 * through untouched as an `unknown` item, which the SDK sends as is.
 */
export function toAgentInput(items: ResponseInputItem[]): AgentInputItem[] {
  const callNames = new Map<string, string>();
  for (const item of items) if (item.type === 'function_call') callNames.set(item.call_id, item.name);
  return items.map((item): AgentInputItem => {
    if (item.type === undefined || item.type === 'message') return message(item as MessageLike);
    if (item.type === 'function_call') {
      return { type: 'function_call', callId: item.call_id, name: item.name, arguments: item.arguments, status: 'completed' };
    }
    if (item.type === 'function_call_output' && typeof item.output === 'string' && item.call_id) {
      return { type: 'function_call_result', callId: item.call_id, name: callNames.get(item.call_id) ?? '', status: 'completed', output: item.output };
    }
    return passThrough(item);
  });
}

type MessageLike = { role: 'user' | 'assistant' | 'system' | 'developer'; content: string | Array<ResponseInputContent | { type: 'output_text'; text: string } | { type: 'refusal'; refusal: string }> };

function message(item: MessageLike): AgentInputItem {
  const { role, content } = item;
  if (role === 'system' || role === 'developer') {
    return { role: 'system', content: typeof content === 'string' ? content : content.map((part) => ('text' in part ? part.text : '')).join('') };
  }
  if (role === 'assistant') {
    const parts = typeof content === 'string' ? [{ type: 'output_text' as const, text: content }] : content;
    return {
      role: 'assistant',
      status: 'completed',
      content: parts.map((part) => (part.type === 'refusal' ? { type: 'refusal' as const, refusal: part.refusal } : { type: 'output_text' as const, text: 'text' in part ? part.text : '' })),
    };
  }
  if (typeof content === 'string') return { role: 'user', content };
  return { role: 'user', content: content.flatMap((part) => userPart(part as ResponseInputContent)) };
}

function userPart(part: ResponseInputContent): UserPart[] {
  switch (part.type) {
    case 'input_text':
      return [{ type: 'input_text', text: part.text }];
    case 'input_image': {
      const image = part.image_url ?? (part.file_id ? { id: part.file_id } : undefined);
      return image === undefined ? [] : [{ type: 'input_image', image, detail: part.detail }];
    }
    case 'input_file': {
      const file = part.file_data ?? (part.file_url ? { url: part.file_url } : part.file_id ? { id: part.file_id } : undefined);
      return file === undefined ? [] : [{ type: 'input_file', file, ...(part.filename ? { filename: part.filename } : {}) }];
    }
    default:
      return [];
  }
}

function passThrough(item: ResponseInputItem): AgentInputItem {
  // The SDK writes `id` over the item's own, so it must travel on both.
  const id = (item as { id?: string }).id;
  return { type: 'unknown', ...(id ? { id } : {}), providerData: item as unknown as Record<string, unknown> };
}
