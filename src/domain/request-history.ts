import type { Config } from './config.js';
import { parse } from './parse.js';
import { qualify } from './qualify.js';
import type { IssueRecord, LabelEvent } from './snapshot.js';
import { STATES, type State } from './workflow.js';

/**
 * One request as the scheduled jobs see it: the issue, its workflow history from the resource
 * label events, and what parsing and qualifying its description concludes. Small and flat, so a
 * report over 50,000 requests keeps these and drops descriptions and events as it goes.
 */


export interface RequestHistory {
  iid: number;
  title: string;
  webUrl: string;
  author: string;
  open: boolean;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  assignees: string[];
  /** Null for an issue made from no known form (not a request). */
  form: { id: string; version: number } | null;
  segment: string | null;
  region: string | null;
  customer: string | null;
  renewalDate: string | null;
  /** Carries the at-risk flag label. */
  atRisk: boolean;
  /** The `engagement::` state label it carries now, if any. */
  state: State | null;
  /** When the current state label was last added (null when unknown). */
  stateSince: string | null;
  /** The first time each workflow state label was added. */
  reached: Partial<Record<State, string>>;
  /** Validation problems of the description as it stands ("Label: code"). */
  problems: string[];
  /** Titles of the qualification gates it fails as it stands (read for `not-qualified` requests only). */
  notQualified: string[];
}

const lower = (s: string) => s.toLowerCase();

/** `events` oldest first, as GitLab lists them; `today` (YYYY-MM-DD) for date-relative rules. */
export function requestHistory(issue: IssueRecord, events: readonly LabelEvent[], config: Config, today: string): RequestHistory {
  const request = parse(issue.description, config.catalog, { labels: issue.labels });
  const prefix = lower(`${config.labels.engagement}::`);
  const stateOf = (label: string | null): State | null => {
    if (!label || !lower(label).startsWith(prefix)) return null;
    const s = label.slice(prefix.length);
    return (STATES as readonly string[]).includes(s) ? (s as State) : null;
  };
  const reached: Partial<Record<State, string>> = {};
  const lastAdded: Partial<Record<State, string>> = {};
  for (const e of events) {
    const s = e.action === 'add' ? stateOf(e.label) : null;
    if (!s) continue;
    reached[s] ??= e.createdAt;
    lastAdded[s] = e.createdAt;
  }
  const labelStates = issue.labels.map(stateOf).filter((s): s is State => s !== null);
  // Scoped labels keep one per scope; should two ever show, the latest added wins.
  const state = labelStates.sort((a, b) => (lastAdded[b] ?? '').localeCompare(lastAdded[a] ?? ''))[0] ?? null;
  // Qualifying is a third of the cost of a history; only a not-qualified request needs its reasons.
  const q = request.form && state === 'not-qualified' ? qualify(request, issue.author, config, today) : null;
  const field = (id: string) => {
    const v = request.fields[id];
    // A copy: a value parsed out of the description may be a slice of it, and would keep the whole
    // description in memory for as long as the history lives (50,000 of them in a large report).
    return typeof v === 'string' && v.trim() !== '' ? (JSON.parse(JSON.stringify(v)) as string) : null;
  };
  return {
    iid: issue.iid,
    title: issue.title,
    webUrl: issue.webUrl,
    author: issue.author,
    open: issue.state === 'opened',
    createdAt: issue.createdAt,
    updatedAt: issue.updatedAt,
    closedAt: issue.closedAt,
    assignees: [...issue.assignees],
    form: request.form ? { id: request.form.id, version: request.form.version } : null,
    segment: request.form?.segment ?? null,
    region: request.form?.region ?? null,
    customer: field(config.fieldMap.customer),
    renewalDate: field(config.fieldMap.renewalDate),
    atRisk: issue.labels.some((l) => lower(l) === lower(config.labels.atRisk)),
    state,
    stateSince: state ? (lastAdded[state] ?? null) : null,
    reached,
    problems: request.form ? request.problems.map((p) => `${p.label ?? 'Description'}: ${p.code.replace(/-/g, ' ')}`) : [],
    notQualified: q ? q.rules.filter((r) => r.kind === 'gate' && r.verdict === 'fail').map((r) => r.title) : [],
  };
}
