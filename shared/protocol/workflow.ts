import * as z from 'zod';
import { FileSource, UrlSource } from './sources.js';

const TaskBase = { status_indicator: z.enum(['none', 'loading', 'complete']).optional() };

export const CustomTask = z.object({
  ...TaskBase,
  type: z.literal('custom'),
  title: z.string().optional(),
  icon: z.string().optional(),
  content: z.string().optional(),
});
export const SearchTask = z.object({
  ...TaskBase,
  type: z.literal('web_search'),
  title: z.string().optional(),
  title_query: z.string().optional(),
  queries: z.array(z.string()).optional(),
  sources: z.array(UrlSource).optional(),
});
export const ThoughtTask = z.object({
  ...TaskBase,
  type: z.literal('thought'),
  title: z.string().optional(),
  content: z.string(),
});
export const FileTask = z.object({
  ...TaskBase,
  type: z.literal('file'),
  title: z.string().optional(),
  sources: z.array(FileSource).optional(),
});
export const ImageTask = z.object({ ...TaskBase, type: z.literal('image'), title: z.string().optional() });

export const Task = z.discriminatedUnion('type', [CustomTask, SearchTask, ThoughtTask, FileTask, ImageTask]);
export type Task = z.infer<typeof Task>;

export const WorkflowSummary = z.union([
  z.object({ title: z.string(), icon: z.string().optional() }),
  z.object({ duration: z.number().int() }),
]);

export const Workflow = z.object({
  type: z.enum(['custom', 'reasoning']),
  tasks: z.array(Task),
  summary: WorkflowSummary.optional(),
  expanded: z.boolean().optional(),
});
export type Workflow = z.infer<typeof Workflow>;
