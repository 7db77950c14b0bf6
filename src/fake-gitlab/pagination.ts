import type { Request, Response } from 'express';
import { ApiError } from './api-error.js';

/**
 * Offset pagination as GitLab answers it (doc/api/rest/_index.md "Pagination";
 * `Gitlab::Pagination::OffsetHeaderBuilder`): `page` (default 1), `per_page` (default 20, max 100),
 * `X-Page`, `X-Per-Page`, `X-Next-Page` / `X-Prev-Page` (empty when none), `X-Total`,
 * `X-Total-Pages` and a `Link` header with rel prev / next / first / last. Past 10,000 rows GitLab
 * stops counting: no `X-Total`, no `X-Total-Pages`, no rel="last".
 */

export const MAX_COUNT_LIMIT = 10_000;
export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;

function integerParam(query: Request['query'], name: string, fallback: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value.trim())) throw ApiError.badRequest(`${name} is invalid`);
  return Number(value);
}

export function paginate<T>(items: readonly T[], req: Request, res: Response, baseUrl: string): T[] {
  const page = Math.max(1, integerParam(req.query, 'page', 1));
  const requested = integerParam(req.query, 'per_page', DEFAULT_PER_PAGE);
  const perPage = requested < 1 ? DEFAULT_PER_PAGE : Math.min(requested, MAX_PER_PAGE);

  const total = items.length;
  const withoutCounts = total > MAX_COUNT_LIMIT;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const start = (page - 1) * perPage;
  const rows = items.slice(start, start + perPage);
  // Kaminari: no next or previous page once past the end.
  const outOfRange = withoutCounts ? rows.length === 0 : page > totalPages;
  const next = !outOfRange && start + perPage < total ? page + 1 : null;
  const prev = !outOfRange && page > 1 ? page - 1 : null;

  const href = (target: number) => pageUrl(req, baseUrl, target, perPage);
  const links = [
    ...(prev !== null ? [`<${href(prev)}>; rel="prev"`] : []),
    ...(next !== null ? [`<${href(next)}>; rel="next"`] : []),
    `<${href(1)}>; rel="first"`,
    ...(withoutCounts ? [] : [`<${href(totalPages)}>; rel="last"`]),
  ];
  res.set({
    'X-Per-Page': String(perPage),
    'X-Page': String(page),
    'X-Next-Page': next === null ? '' : String(next),
    'X-Prev-Page': prev === null ? '' : String(prev),
    Link: links.join(', '),
  });
  if (!withoutCounts) res.set({ 'X-Total': String(total), 'X-Total-Pages': String(totalPages) });
  return rows;
}

/** The request's own URL with another page; parameters sorted, as Rails' `to_query` writes them. */
function pageUrl(req: Request, baseUrl: string, page: number, perPage: number): string {
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(req.query)) {
    if (typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string')))
      params[key] = value as string | string[];
  }
  params.page = String(page);
  params.per_page = String(perPage);
  const search = new URLSearchParams();
  for (const key of Object.keys(params).sort()) {
    const value = params[key]!;
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
  }
  return `${baseUrl}${new URL(req.originalUrl, baseUrl).pathname}?${search.toString()}`;
}
