import type { ResponseOutputText } from 'openai/resources/responses/responses';
import type { Annotation } from '../protocol/index.js';

type Converted = Annotation | null | Promise<Annotation | null>;

/**
 * How the model's citations show as sources (the reference's response converter hooks). Each
 * returns the annotation to show, or null to drop the citation; one not given keeps the default.
 */
export interface CitationConverters {
  url?: (citation: ResponseOutputText.URLCitation) => Converted;
  file?: (citation: ResponseOutputText.FileCitation) => Converted;
  containerFile?: (citation: ResponseOutputText.ContainerFileCitation) => Converted;
}

/** The defaults, as the reference shows them: a file citation needs a filename to show. */
export const defaultCitations: Required<CitationConverters> = {
  url: (c) => withIndex({ type: 'annotation', source: { type: 'url', url: c.url, title: c.title || c.url } }, c.end_index),
  file: (c) => (c.filename ? withIndex({ type: 'annotation', source: { type: 'file', filename: c.filename, title: c.filename } }, c.index) : null),
  containerFile: (c) => (c.filename ? withIndex({ type: 'annotation', source: { type: 'file', filename: c.filename, title: c.filename } }, c.end_index) : null),
};

/** A Responses API citation as ChatKit shows it; null for any other annotation, or one a converter drops. */
export async function citationToAnnotation(citation: unknown, converters: CitationConverters = {}): Promise<Annotation | null> {
  const c = citation as { type?: string; url?: string } | null;
  switch (c?.type) {
    case 'url_citation':
      if (!c.url) return null;
      return (converters.url ?? defaultCitations.url)(c as ResponseOutputText.URLCitation);
    case 'file_citation':
      return (converters.file ?? defaultCitations.file)(c as ResponseOutputText.FileCitation);
    case 'container_file_citation':
      return (converters.containerFile ?? defaultCitations.containerFile)(c as ResponseOutputText.ContainerFileCitation);
    default:
      return null;
  }
}

function withIndex(annotation: Annotation, index: number | undefined): Annotation {
  return typeof index === 'number' ? { ...annotation, index } : annotation;
}
