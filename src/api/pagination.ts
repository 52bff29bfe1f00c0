// Pagination of the API's lists, as in Traefik's `pkg/api/handler.go` (read in its v2.0 form).
// `page` (from 1) and `per_page` (100 by default) select a slice of the sorted list. The
// `X-Next-Page` header gives the number of the next page, or 1 when the slice is the last one.
// A page past the end is a 400, and so is a value that is not a positive integer.

/** Response header with the number of the page after this one, or 1 on the last page. */
export const NEXT_PAGE_HEADER = 'X-Next-Page';

const DEFAULT_PER_PAGE = 100;

/**
 * Largest accepted `page` and `per_page`. Traefik accepts any positive Go int; this bound keeps
 * `page * per_page` an exact integer in JavaScript, and no list of routers comes near it.
 */
const MAX_PARAMETER = 1_000_000;

export type PageResult<T> = { ok: true; items: T[]; nextPage: number } | { ok: false; message: string };

/** Selects the page of `items` that the `page` and `per_page` query parameters of `query` name. */
export function paginate<T>(items: readonly T[], query: URLSearchParams): PageResult<T> {
  const perPage = readPositiveInteger(query, 'per_page', DEFAULT_PER_PAGE);
  if (typeof perPage === 'string') return { ok: false, message: perPage };
  const page = readPositiveInteger(query, 'page', 1);
  if (typeof page === 'string') return { ok: false, message: page };

  // Page 1 of an empty list is an empty list, not an error.
  const start = (page - 1) * perPage;
  if (start > 0 && start >= items.length) {
    const pages = Math.max(1, Math.ceil(items.length / perPage));
    return { ok: false, message: `page ${page} is past the end: with per_page=${perPage} the list of ${items.length} items has ${pages} page${pages === 1 ? '' : 's'}` };
  }

  const end = Math.min(start + perPage, items.length);
  return { ok: true, items: items.slice(start, end), nextPage: end < items.length ? page + 1 : 1 };
}

/** Reads a query parameter that must be a positive integer, and returns the error message when it is not. */
function readPositiveInteger(query: URLSearchParams, name: string, fallback: number): number | string {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;

  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PARAMETER) {
    return `invalid ${name} "${raw}": write a whole number from 1 to ${MAX_PARAMETER}, such as ${name}=${fallback}`;
  }
  return Number(raw);
}
