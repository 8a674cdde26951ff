import * as z from 'zod';

/** A JSON object whose shape belongs to the integrator (widgets, tag data, metadata). */
export const JsonObject = z.record(z.string(), z.unknown());
export type JsonObject = z.infer<typeof JsonObject>;

/** Timestamps travel as ISO 8601 strings. */
export const IsoTimestamp = z.iso.datetime({ offset: true });

export const Id = z.string().min(1).max(255);

/**
 * An optional field the reference types declare `X | None`: a client may send `null` for it, and
 * `null` means absent (the field is dropped, as `exclude_none` would).
 */
export function optionalOrNull<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === null ? undefined : value), schema.optional());
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
  /** Id of the last element of `data` when more exist; pass it back to get the next page. */
  after?: string;
}

export const SortOrder = z.enum(['asc', 'desc']);
export type SortOrder = z.infer<typeof SortOrder>;

/** Pagination arguments exactly as a client may send them; the store validates and clamps `limit`. */
export interface PageRequest {
  limit?: number | undefined;
  after?: string | undefined;
  order?: SortOrder | undefined;
}
