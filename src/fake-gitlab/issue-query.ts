import type { Request } from 'express';
import { ApiError } from './api-error.js';
import type { FakeState, IssueRecord } from './state.js';

/**
 * `GET /projects/:id/issues` filters and order (doc/api/issues.md "List project issues"):
 * state, labels (all must match; `None`, `Any`), iids[], author_username, assignee_username,
 * assignee_id, confidential, search + in, created_/updated_ after / before, order_by, sort.
 */

type Query = Request['query'];

/** A parameter as one string; `key[]` too, since Express' simple parser keeps the brackets. */
function one(query: Query, key: string): string | undefined {
  const raw = query[key] ?? query[`${key}[]`];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  return typeof value === 'string' ? value : undefined;
}

/** A list parameter: `a,b`, repeated keys or `key[]`, split on commas as GitLab's coercion does. */
export function list(query: Query | Record<string, unknown>, key: string): string[] | undefined {
  const raw = query[key] ?? query[`${key}[]`];
  if (raw === undefined) return undefined;
  const values = Array.isArray(raw) ? raw : [raw];
  return values
    .flatMap((v) => (typeof v === 'string' ? v.split(',') : typeof v === 'number' ? [String(v)] : []))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function time(query: Query, key: string): Date | undefined {
  const value = one(query, key);
  if (value === undefined || value === '') return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw ApiError.badRequest(`${key} is invalid`);
  return parsed;
}

function oneOf<T extends string>(query: Query, key: string, values: readonly T[], fallback: T): T {
  const value = one(query, key);
  if (value === undefined) return fallback;
  if (!(values as readonly string[]).includes(value)) throw ApiError.badRequest(`${key} does not have a valid value`);
  return value as T;
}

const ORDER_BY = [
  'created_at',
  'updated_at',
  'title',
  'priority',
  'due_date',
  'relative_position',
  'label_priority',
  'milestone_due',
  'popularity',
  'weight',
] as const;

/**
 * GitLab's `fuzzy_search`: every word of 3+ characters (or a "quoted phrase") must appear,
 * case-insensitively, in one of the searched columns; shorter queries must match a column exactly.
 */
function searchMatcher(search: string, columns: Array<'title' | 'description'>): (issue: IssueRecord) => boolean {
  const query = search.trim().replace(/\s+/g, ' ').toLowerCase();
  const words = [...query.matchAll(/"([^"]+)"|(\S+)/g)].map((m) => m[1] ?? m[2]!).filter((w) => w.length >= 3);
  return (issue) =>
    columns.some((column) => {
      const text = (issue[column] ?? '').toLowerCase();
      return words.length > 0 ? words.every((w) => text.includes(w)) : text === query;
    });
}

/**
 * The last listings per state and revision: a client reading 50,000 issues asks the same query
 * 500 times, one page each, and filtering and ordering them every time made the fake quadratic.
 */
const recent = new WeakMap<FakeState, Map<string, { revision: number; issues: IssueRecord[] }>>();

export function queryIssues(state: FakeState, query: Query): IssueRecord[] {
  const { page: _page, per_page: _perPage, ...rest } = query;
  const key = JSON.stringify(rest);
  let byQuery = recent.get(state);
  if (!byQuery) recent.set(state, (byQuery = new Map()));
  const hit = byQuery.get(key);
  if (hit && hit.revision === state.revision) return hit.issues;
  const issues = filterAndOrder(state, query);
  if (byQuery.size >= 8) byQuery.clear();
  byQuery.set(key, { revision: state.revision, issues });
  return issues;
}

function filterAndOrder(state: FakeState, query: Query): IssueRecord[] {
  const wantedState = oneOf(query, 'state', ['opened', 'closed', 'all'], 'all');
  const labels = list(query, 'labels');
  const iids = list(query, 'iids')?.map(Number);
  const author = one(query, 'author_username')?.toLowerCase();
  const assigneeName = one(query, 'assignee_username')?.toLowerCase();
  const assigneeId = one(query, 'assignee_id');
  const confidential = one(query, 'confidential');
  const search = one(query, 'search');
  const columns = (one(query, 'in') ?? 'title,description').split(',').map((c) => c.trim());
  if (columns.some((c) => c !== 'title' && c !== 'description'))
    throw ApiError.badRequest('in does not have a valid value');
  const createdAfter = time(query, 'created_after');
  const createdBefore = time(query, 'created_before');
  const updatedAfter = time(query, 'updated_after');
  const updatedBefore = time(query, 'updated_before');
  const orderBy = oneOf(query, 'order_by', ORDER_BY, 'created_at');
  const sort = oneOf(query, 'sort', ['asc', 'desc'], 'desc');

  const labelNames = (issue: IssueRecord) => issue.labelIds.map((id) => state.label(id).name);
  const username = (id: number) => state.user(id).username.toLowerCase();
  const matchesSearch =
    search !== undefined && search.trim() !== ''
      ? searchMatcher(search, columns as Array<'title' | 'description'>)
      : null;

  const found = [...state.allIssues()].filter((issue) => {
    if (wantedState !== 'all' && issue.state !== wantedState) return false;
    if (labels !== undefined && labels.length > 0) {
      const names = labelNames(issue);
      const special = labels.length === 1 ? labels[0]!.toLowerCase() : null;
      if (special === 'none') {
        if (names.length > 0) return false;
      } else if (special === 'any') {
        if (names.length === 0) return false;
      } else if (!labels.every((l) => names.includes(l))) return false;
    }
    if (iids !== undefined && iids.length > 0 && !iids.includes(issue.iid)) return false;
    if (author !== undefined && username(issue.authorId) !== author) return false;
    if (assigneeName !== undefined && !issue.assigneeIds.some((id) => username(id) === assigneeName)) return false;
    if (assigneeId !== undefined) {
      const special = assigneeId.toLowerCase();
      if (
        special === 'none'
          ? issue.assigneeIds.length > 0
          : special === 'any'
            ? issue.assigneeIds.length === 0
            : !issue.assigneeIds.includes(Number(assigneeId))
      ) {
        return false;
      }
    }
    if (confidential !== undefined && issue.confidential !== (confidential === 'true')) return false;
    if (matchesSearch && !matchesSearch(issue)) return false;
    if (createdAfter && issue.createdAt < createdAfter) return false;
    if (createdBefore && issue.createdAt > createdBefore) return false;
    if (updatedAfter && issue.updatedAt < updatedAfter) return false;
    if (updatedBefore && issue.updatedAt > updatedBefore) return false;
    return true;
  });

  // Orders this fake does not model (priority, popularity…) fall back to creation time.
  const key = (issue: IssueRecord): number | string =>
    orderBy === 'updated_at'
      ? issue.updatedAt.getTime()
      : orderBy === 'title'
        ? issue.title.toLowerCase()
        : issue.createdAt.getTime();
  const direction = sort === 'asc' ? 1 : -1;
  // Ties break on id in the same direction, as GitLab's keyset-friendly ordering does.
  const compare = (a: IssueRecord, b: IssueRecord) => {
    const ka = key(a);
    const kb = key(b);
    return (ka < kb ? -1 : ka > kb ? 1 : a.id - b.id) * direction;
  };
  // Issues are kept in creation order, so a listing by creation time is usually sorted already:
  // checking is linear, sorting is not (a 10,000-issue listing is asked for 100 times, a page each).
  for (let i = 1; i < found.length; i++) if (compare(found[i - 1]!, found[i]!) > 0) return found.sort(compare);
  return found;
}
