import { BadRequestError } from '../errors.js';
import type { PageRequest, SortOrder } from '../protocol/index.js';

export const DEFAULT_PAGE_SIZE = 20;
/** Larger requests are served this many: a page is one bounded query. */
export const MAX_PAGE_SIZE = 100;
/**
 * The most stored JSON one page of items carries (its first item whatever its size): a page of
 * long messages ends early, with has_more. A buffered Lambda answers at most 6 MB.
 */
export const PAGE_MAX_BYTES = 4 * 1024 * 1024;

export interface Keyset {
  limit: number;
  order: SortOrder;
  after: string | undefined;
}

/** Validates a client's page request: a positive integer limit (clamped), asc/desc, an optional cursor. */
export function keyset(page: PageRequest, defaultOrder: SortOrder = 'desc'): Keyset {
  const { limit = DEFAULT_PAGE_SIZE, order = defaultOrder, after } = page;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new BadRequestError(`limit must be a positive integer (at most ${MAX_PAGE_SIZE} are returned)`, 'invalid_limit');
  }
  if (order !== 'asc' && order !== 'desc') {
    throw new BadRequestError('order must be "asc" or "desc"', 'invalid_order');
  }
  if (after !== undefined && (typeof after !== 'string' || after.length === 0)) {
    throw new BadRequestError('after must be the id of an element of a previous page', 'invalid_cursor');
  }
  return { limit: Math.min(limit, MAX_PAGE_SIZE), order, after };
}

export function invalidCursor(): BadRequestError {
  return new BadRequestError('after does not name an element of this list', 'invalid_cursor');
}

/** Builds a page from up to limit+1 rows fetched in order; its cursor names the last row (by id, unless `cursorOf` says). */
export function toPage<Row, T extends { id: string }>(rows: Row[], limit: number, map: (row: Row) => T, cursorOf?: (row: Row) => string) {
  const hasMore = rows.length > limit;
  const kept = rows.slice(0, limit);
  const data = kept.map(map);
  const last = data.at(-1);
  if (!hasMore || !last) return { data, has_more: false };
  return { data, has_more: true, after: cursorOf ? cursorOf(kept.at(-1)!) : last.id };
}

/**
 * Builds a page of items from rows fetched in order, each with `upto`, the bytes of the rows up to
 * and including it (at most limit+1, and at least the first row past the budget when there is one):
 * the page ends at `limit` rows or before the row that passes PAGE_MAX_BYTES, its first row always kept.
 */
export function toSizedPage<T extends { id: string }>(rows: Array<{ item: T; upto: number }>, limit: number) {
  let kept = 0;
  while (kept < Math.min(rows.length, limit) && (kept === 0 || rows[kept]!.upto <= PAGE_MAX_BYTES)) kept++;
  const data = rows.slice(0, kept).map((row) => row.item);
  const last = data.at(-1);
  return rows.length > kept && last ? { data, has_more: true, after: last.id } : { data, has_more: false };
}

/**
 * A cursor that holds the position it was read at (an opaque string): for a list ordered by a
 * key that changes, such as a thread's last activity, where the row's current key would move
 * the next page (a thread answered meanwhile would come again, or others be skipped).
 */
export const positionCursor = {
  of: (key: string, id: string): string => Buffer.from(JSON.stringify([key, id])).toString('base64url'),
  /** The position a cursor holds; `validKey` must accept its key (it goes into the query typed). */
  read(cursor: string, validKey: (key: string) => boolean): { key: string; id: string } {
    try {
      const [key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
      if (typeof key === 'string' && validKey(key) && typeof id === 'string' && id.length > 0) return { key, id };
    } catch {
      // not one of ours
    }
    throw invalidCursor();
  },
};
