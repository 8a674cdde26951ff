import { BadRequestError } from '../errors.js';
import type { PageRequest, SortOrder } from '../protocol/index.js';

export const DEFAULT_PAGE_SIZE = 20;
/** Larger requests are served this many: a page is one bounded query. */
export const MAX_PAGE_SIZE = 100;

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

/** Builds a page from up to limit+1 rows fetched in order. */
export function toPage<Row, T extends { id: string }>(rows: Row[], limit: number, map: (row: Row) => T) {
  const hasMore = rows.length > limit;
  const data = rows.slice(0, limit).map(map);
  const last = data.at(-1);
  return hasMore && last ? { data, has_more: true, after: last.id } : { data, has_more: false };
}
