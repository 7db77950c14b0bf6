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
  const filter = readFilter(query);
  return ordered([...state.allIssues()].filter(issueMatcher(state, filter)), filter.orderBy, filter.sort);
}

type IssueFilter = ReturnType<typeof readFilter>;

/** The query's filters and order, each checked as GitLab's Grape params do (400 on a bad value). */
function readFilter(query: Query) {
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
  const matchesSearch =
    search !== undefined && search.trim() !== ''
      ? searchMatcher(search, columns as Array<'title' | 'description'>)
      : null;
  return {
    wantedState,
    labels,
    iids,
    author,
    assigneeName,
    assigneeId,
    confidential,
    matchesSearch,
    createdAfter,
    createdBefore,
    updatedAfter,
    updatedBefore,
    orderBy,
    sort,
  };
}

/** `labels`: all must be on the issue; a lone `None` means no label, a lone `Any` at least one. */
function labelsMatch(names: string[], labels: string[] | undefined): boolean {
  if (labels === undefined || labels.length === 0) return true;
  const special = labels.length === 1 ? labels[0]!.toLowerCase() : null;
  if (special === 'none') return names.length === 0;
  if (special === 'any') return names.length > 0;
  return labels.every((l) => names.includes(l));
}

/** `assignee_id`: a user id, or `None` / `Any`. */
function assigneeIdMatches(assigneeIds: number[], assigneeId: string | undefined): boolean {
  if (assigneeId === undefined) return true;
  const special = assigneeId.toLowerCase();
  if (special === 'none') return assigneeIds.length === 0;
  if (special === 'any') return assigneeIds.length > 0;
  return assigneeIds.includes(Number(assigneeId));
}

function issueMatcher(state: FakeState, f: IssueFilter): (issue: IssueRecord) => boolean {
  const labelNames = (issue: IssueRecord) => issue.labelIds.map((id) => state.label(id).name);
  const username = (id: number) => state.user(id).username.toLowerCase();
  return (issue) => {
    if (f.wantedState !== 'all' && issue.state !== f.wantedState) return false;
    if (!labelsMatch(labelNames(issue), f.labels)) return false;
    if (f.iids !== undefined && f.iids.length > 0 && !f.iids.includes(issue.iid)) return false;
    if (f.author !== undefined && username(issue.authorId) !== f.author) return false;
    if (f.assigneeName !== undefined && !issue.assigneeIds.some((id) => username(id) === f.assigneeName)) return false;
    if (!assigneeIdMatches(issue.assigneeIds, f.assigneeId)) return false;
    if (f.confidential !== undefined && issue.confidential !== (f.confidential === 'true')) return false;
    if (f.matchesSearch && !f.matchesSearch(issue)) return false;
    if (f.createdAfter && issue.createdAt < f.createdAfter) return false;
    if (f.createdBefore && issue.createdAt > f.createdBefore) return false;
    if (f.updatedAfter && issue.updatedAt < f.updatedAfter) return false;
    if (f.updatedBefore && issue.updatedAt > f.updatedBefore) return false;
    return true;
  };
}

function ordered(found: IssueRecord[], orderBy: (typeof ORDER_BY)[number], sort: 'asc' | 'desc'): IssueRecord[] {
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
