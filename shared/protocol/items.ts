import * as z from 'zod';
import { Attachment } from './attachments.js';
import { Id, IsoTimestamp, JsonObject, optionalOrNull } from './common.js';
import { Annotation } from './sources.js';
import { Task, Workflow } from './workflow.js';

export const InputText = z.object({ type: z.literal('input_text'), text: z.string() });
export const InputTag = z.object({
  type: z.literal('input_tag'),
  id: z.string(),
  text: z.string(),
  data: JsonObject,
  group: optionalOrNull(z.string()),
  interactive: z.boolean().optional(),
});
export const UserMessageContent = z.discriminatedUnion('type', [InputText, InputTag]);
export type UserMessageContent = z.infer<typeof UserMessageContent>;

export const InferenceOptions = z.object({
  tool_choice: optionalOrNull(z.object({ id: Id })),
  model: optionalOrNull(Id),
});
export type InferenceOptions = z.infer<typeof InferenceOptions>;

export const OutputText = z.object({
  type: z.literal('output_text'),
  text: z.string(),
  annotations: z.array(Annotation),
});
export type OutputText = z.infer<typeof OutputText>;

const ItemBase = { id: Id, thread_id: Id, created_at: IsoTimestamp };

export const UserMessageItem = z.object({
  ...ItemBase,
  type: z.literal('user_message'),
  content: z.array(UserMessageContent),
  attachments: z.array(Attachment),
  quoted_text: z.string().optional(),
  inference_options: InferenceOptions,
});
export const AssistantMessageItem = z.object({
  ...ItemBase,
  type: z.literal('assistant_message'),
  content: z.array(OutputText),
});
export const ClientToolCallItem = z.object({
  ...ItemBase,
  type: z.literal('client_tool_call'),
  status: z.enum(['pending', 'completed']),
  call_id: z.string(),
  name: z.string(),
  arguments: JsonObject,
  output: z.unknown().optional(),
});
export const WidgetItem = z.object({
  ...ItemBase,
  type: z.literal('widget'),
  /** A ChatKit widget tree (Card, ListView, ...): rendered by the client, opaque here. */
  widget: JsonObject,
  copy_text: z.string().optional(),
});
export const GeneratedImageItem = z.object({
  ...ItemBase,
  type: z.literal('generated_image'),
  image: z.object({ id: z.string(), url: z.string() }).optional(),
});

export const StructuredInputAnswer = z.object({
  values: z.array(z.string()),
  skipped: z.boolean().optional(),
});
const StructuredInputBase = { id: z.string(), question: z.string(), answer: StructuredInputAnswer.optional() };
export const StructuredInput = z.discriminatedUnion('type', [
  z.object({
    ...StructuredInputBase,
    type: z.literal('multiple_choice'),
    options: z.array(z.object({ value: z.string() })),
    multiple: z.boolean().optional(),
  }),
  z.object({ ...StructuredInputBase, type: z.literal('freeform'), description: z.string().optional() }),
]);
export const StructuredInputItem = z.object({
  ...ItemBase,
  type: z.literal('structured_input'),
  status: z.enum(['pending', 'answered', 'skipped']),
  inputs: z.array(StructuredInput),
});
export const WorkflowItem = z.object({ ...ItemBase, type: z.literal('workflow'), workflow: Workflow });
export const TaskItem = z.object({ ...ItemBase, type: z.literal('task'), task: Task });
export const EndOfTurnItem = z.object({ ...ItemBase, type: z.literal('end_of_turn') });
/** Integrator context for the model; stored, never sent to the client. */
export const HiddenContextItem = z.object({ ...ItemBase, type: z.literal('hidden_context_item'), content: z.unknown() });
/** Context this server keeps for itself (e.g. "the user cancelled"); never sent to the client. */
export const SdkHiddenContextItem = z.object({ ...ItemBase, type: z.literal('sdk_hidden_context'), content: z.string() });

export const ThreadItem = z.discriminatedUnion('type', [
  UserMessageItem,
  AssistantMessageItem,
  ClientToolCallItem,
  WidgetItem,
  GeneratedImageItem,
  StructuredInputItem,
  WorkflowItem,
  TaskItem,
  EndOfTurnItem,
  HiddenContextItem,
  SdkHiddenContextItem,
]);
export type ThreadItem = z.infer<typeof ThreadItem>;
export type ThreadItemType = ThreadItem['type'];
export type ItemOfType<T extends ThreadItemType> = Extract<ThreadItem, { type: T }>;
export type UserMessageItem = ItemOfType<'user_message'>;
export type AssistantMessageItem = ItemOfType<'assistant_message'>;
export type ClientToolCallItem = ItemOfType<'client_tool_call'>;
export type StructuredInputItem = ItemOfType<'structured_input'>;
export type WidgetItem = ItemOfType<'widget'>;

export { HIDDEN_ITEM_TYPES, isHiddenItem, itemPlainText } from './item-text.js';
