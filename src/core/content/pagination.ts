import { RegistryError } from '../errors.js';
import type { Page } from '../ports.js';

/** The largest page Berth answers at once; a client asking for more gets a `Link` to the rest. */
export const maxPageSize = 10_000;

export interface PageRequest {
  /** Raw `n` as sent, if any. */
  n?: string;
  last?: string;
}

export interface PageResult<T> {
  items: T[];
  /** Set when more items follow: the `last` value for the next page. */
  next?: string;
}

/** Validates `n` and `last`. `n=0` is allowed and yields an empty page. */
export function readPage(request: PageRequest): Page {
  let limit = maxPageSize;
  if (request.n !== undefined) {
    if (!/^\d{1,9}$/.test(request.n)) {
      throw new RegistryError('PAGINATION_NUMBER_INVALID', 'n must be a non-negative integer', {
        n: request.n.slice(0, 50),
      });
    }
    limit = Math.min(Number(request.n), maxPageSize);
  }
  const page: Page = { limit };
  if (request.last !== undefined && request.last !== '') page.last = request.last;
  return page;
}

/**
 * Runs a page query asking for one item more than the limit, so that whether another page exists is
 * known without a second query.
 */
export async function fetchPage<T extends string>(
  page: Page,
  query: (page: Page) => Promise<T[]>,
): Promise<PageResult<T>> {
  if (page.limit === 0) return { items: [] };
  const rows = await query({ ...page, limit: page.limit + 1 });
  if (rows.length <= page.limit) return { items: rows };
  const items = rows.slice(0, page.limit);
  return { items, next: items[items.length - 1]! };
}
