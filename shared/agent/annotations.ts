import type { Annotation } from '../protocol/index.js';

/**
 * A Responses API citation as ChatKit shows it: url, file and container file citations; null
 * for anything else, or a file citation without a name to show.
 */
export function citationToAnnotation(citation: unknown): Annotation | null {
  const c = citation as {
    type?: string;
    url?: string;
    title?: string;
    filename?: string;
    index?: number;
    end_index?: number;
  } | null;
  switch (c?.type) {
    case 'url_citation':
      if (!c.url) return null;
      return withIndex({ type: 'annotation', source: { type: 'url', url: c.url, title: c.title || c.url } }, c.end_index);
    case 'file_citation':
      if (!c.filename) return null;
      return withIndex({ type: 'annotation', source: { type: 'file', filename: c.filename, title: c.filename } }, c.index);
    case 'container_file_citation':
      if (!c.filename) return null;
      return withIndex({ type: 'annotation', source: { type: 'file', filename: c.filename, title: c.filename } }, c.end_index);
    default:
      return null;
  }
}

function withIndex(annotation: Annotation, index: number | undefined): Annotation {
  return typeof index === 'number' ? { ...annotation, index } : annotation;
}
