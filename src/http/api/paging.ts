import { z } from 'zod';
import type { Counted, OffsetQuery } from '../../core/ports.js';
import type { ApiResponse } from './router.js';

/** Harbor's `page` (from 1) and `page_size` (default 10, at most 100). */
export const pagingFields = {
  page: z.coerce.number().int().min(1).max(1_000_000).default(1).describe('The page number'),
  page_size: z.coerce.number().int().min(1).max(100).default(10).describe('The size of per page'),
};

export interface Paging {
  page: number;
  page_size: number;
}

export function offsetOf(paging: Paging): OffsetQuery {
  return { offset: (paging.page - 1) * paging.page_size, limit: paging.page_size };
}

export const pagedHeaders = {
  'X-Total-Count': 'The total count of the resources',
  Link: 'Links to the previous and the next page',
};

/**
 * A page of results with Harbor's headers: `X-Total-Count`, and `Link` with `rel="prev"` and
 * `rel="next"` URLs (the request's own path and query with `page` changed), joined by " , " as Harbor does.
 */
export function paged<T, J>(url: URL, paging: Paging, page: Counted<T>, toJson: (item: T) => J): ApiResponse {
  const headers: Record<string, string> = { 'X-Total-Count': String(page.total) };
  const links: string[] = [];
  const linkTo = (n: number, rel: string) => {
    const query = new URLSearchParams(url.searchParams);
    query.set('page', String(n));
    query.set('page_size', String(paging.page_size));
    links.push(`<${url.pathname}?${query.toString()}>; rel="${rel}"`);
  };
  const lastPage = Math.max(1, Math.ceil(page.total / paging.page_size));
  if (paging.page > 1) linkTo(Math.min(paging.page - 1, lastPage), 'prev');
  if (paging.page < lastPage) linkTo(paging.page + 1, 'next');
  if (links.length > 0) headers.Link = links.join(' , ');
  return { status: 200, body: page.items.map(toJson), headers };
}
