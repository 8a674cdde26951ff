import * as z from 'zod';
import { JsonObject } from './common.js';

const SourceBase = {
  title: z.string(),
  description: z.string().optional(),
  timestamp: z.string().optional(),
  group: z.string().optional(),
};

export const UrlSource = z.object({
  ...SourceBase,
  type: z.literal('url'),
  url: z.string(),
  attribution: z.string().optional(),
});
export const FileSource = z.object({ ...SourceBase, type: z.literal('file'), filename: z.string() });
export const EntitySource = z.object({
  ...SourceBase,
  type: z.literal('entity'),
  id: z.string(),
  icon: z.string().optional(),
  label: z.string().optional(),
  inline_label: z.string().optional(),
  interactive: z.boolean().optional(),
  data: JsonObject.optional(),
});
export const Source = z.discriminatedUnion('type', [UrlSource, FileSource, EntitySource]);
export type Source = z.infer<typeof Source>;

export const Annotation = z.object({
  type: z.literal('annotation'),
  source: Source,
  index: z.number().int().optional(),
});
export type Annotation = z.infer<typeof Annotation>;
