import * as z from 'zod';
import { Id, JsonObject, SortOrder, optionalOrNull } from './common.js';
import { InferenceOptions, UserMessageContent } from './items.js';

export const MAX_ATTACHMENTS = 20;

/** What the ChatKit client sends for a new user message. */
export const UserMessageInput = z.object({
  content: z.array(UserMessageContent),
  /** Each one is looked up and checked: a bounded number, as ChatKit's composer allows. */
  attachments: z.array(Id).max(MAX_ATTACHMENTS).default([]),
  quoted_text: optionalOrNull(z.string()),
  inference_options: InferenceOptions.default({}),
});
export type UserMessageInput = z.infer<typeof UserMessageInput>;

export const FeedbackKind = z.enum(['positive', 'negative']);
export type FeedbackKind = z.infer<typeof FeedbackKind>;

/** A widget or client action: `type` names it, `payload` is the integrator's. */
export const Action = z.object({ type: z.string().min(1), payload: z.unknown().optional() }).loose();
export type Action = z.infer<typeof Action>;

export const StructuredInputSubmission = z.object({
  status: z.enum(['answered', 'skipped']).default('answered'),
  answers: z
    .record(z.string(), z.object({ values: z.array(z.string()).default([]), skipped: z.boolean().default(false) }))
    .default({}),
});
export type StructuredInputSubmission = z.infer<typeof StructuredInputSubmission>;

/**
 * Page sizes arrive as numbers; `0` and `null` mean the default page size, as in the reference.
 * The store refuses the rest of the nonsense (negative, fractional) and clamps to its maximum.
 */
const Limit = optionalOrNull(z.number().transform((limit) => (limit === 0 ? undefined : limit)));

const ListParams = { limit: Limit, order: SortOrder.default('desc'), after: optionalOrNull(Id) };
const CustomActionParams = z.object({ thread_id: Id, item_id: optionalOrNull(Id), action: Action });

function request<T extends string, P extends z.ZodType>(type: T, params: P) {
  return z.object({ type: z.literal(type), params, metadata: JsonObject.default({}) });
}

export const StreamingRequest = z.discriminatedUnion('type', [
  request('threads.create', z.object({ input: UserMessageInput })),
  request('threads.add_user_message', z.object({ thread_id: Id, input: UserMessageInput })),
  request('threads.add_client_tool_output', z.object({ thread_id: Id, result: z.unknown() })),
  request(
    'threads.add_structured_input',
    z.object({ thread_id: Id, item_id: Id, input: StructuredInputSubmission }),
  ),
  request('threads.retry_after_item', z.object({ thread_id: Id, item_id: Id })),
  request('threads.custom_action', CustomActionParams),
]);

export const NonStreamingRequest = z.discriminatedUnion('type', [
  request('threads.get_by_id', z.object({ thread_id: Id })),
  request('threads.list', z.object(ListParams)),
  request('items.list', z.object({ thread_id: Id, ...ListParams })),
  request('threads.update', z.object({ thread_id: Id, title: z.string().max(500) })),
  request('threads.delete', z.object({ thread_id: Id })),
  request('items.feedback', z.object({ thread_id: Id, item_ids: z.array(Id).min(1).max(100), kind: FeedbackKind })),
  request('attachments.create', z.object({ name: z.string().min(1).max(1024), size: z.number().int().nonnegative(), mime_type: z.string().min(1).max(255) })),
  request('attachments.delete', z.object({ attachment_id: Id })),
  request('input.transcribe', z.object({ audio_base64: z.base64(), mime_type: z.string().min(1).max(255) })),
  request('threads.sync_custom_action', CustomActionParams),
]);

export const ChatKitRequest = z.union([StreamingRequest, NonStreamingRequest]);
export type StreamingRequest = z.infer<typeof StreamingRequest>;
export type NonStreamingRequest = z.infer<typeof NonStreamingRequest>;
export type ChatKitRequest = StreamingRequest | NonStreamingRequest;
export type RequestType = ChatKitRequest['type'];
export type RequestOf<T extends RequestType> = Extract<ChatKitRequest, { type: T }>;

const STREAMING_TYPES: ReadonlySet<string> = new Set(StreamingRequest.options.map((o) => o.shape.type.value));

export function isStreamingRequest(request: ChatKitRequest): request is StreamingRequest {
  return STREAMING_TYPES.has(request.type);
}
