import type { Config } from './config.js';
import { effectiveTimeline } from './effective-timeline.js';
import type { TimelineEntry } from './lifecycle.js';
import { readRequest } from './read-request.js';
import { qualify } from './qualify.js';
import type { IssueRecord, LabelEvent } from './snapshot.js';
import { STATES, type State } from './workflow.js';

/**
 * One request as the scheduled jobs see it: the issue, the transitions it really went through (the
 * bot's record, else rebuilt from the label events: see effective-timeline.ts), and what parsing
 * and qualifying its description concludes. Small and flat, so a report over 50,000 requests keeps
 * these and drops descriptions, notes and events as it goes.
 */

/** What the jobs read of an issue's notes, when they read them. */
export interface NotesRead {
  /** The `timeline` of the bot's request note's marker (null: no such note, or no timeline in it). */
  recorded: readonly unknown[] | null;
  /** When each note by a person was created (comments, and system notes of their own changes). */
  humanNoteTimes: readonly string[];
}

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
  /** The state it is in now: the last of `timeline`, else the `engagement::` label it carries. */
  state: State | null;
  /** When it entered the current state (null when unknown). */
  stateSince: string | null;
  /** The first time it entered each state. */
  reached: Partial<Record<State, string>>;
  /** Its effective transitions, oldest first (refused moves are not in it). */
  timeline: TimelineEntry[];
  /**
   * The last thing a person did on it (opened it, commented, edited it, moved a label): null when
   * its notes were not read, since the bot's own writes move `updatedAt`.
   */
  lastHumanActivity: string | null;
  /** Validation problems of the description as it stands ("Label: code"). */
  problems: string[];
  /** Titles of the qualification gates it fails as it stands (read only for a request that was ever `not-qualified`). */
  notQualified: string[];
}

const lower = (s: string) => s.toLowerCase();
const latest = (instants: readonly string[]) => instants.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));

/** The workflow state the first `engagement::` label naming one names. */
function labelState(labels: readonly string[], config: Config): State | null {
  const prefix = lower(`${config.labels.engagement}::`);
  for (const label of labels) {
    if (!lower(label).startsWith(prefix)) continue;
    const s = label.slice(prefix.length);
    if ((STATES as readonly string[]).includes(s)) return s as State;
  }
  return null;
}

/** The last thing a person did: opened the issue, commented, or moved a label. */
function humanActivity(issue: IssueRecord, events: readonly LabelEvent[], notes: NotesRead, bot: string): string {
  return latest([
    issue.createdAt,
    ...notes.humanNoteTimes,
    ...events.filter((e) => e.user !== null && lower(e.user) !== lower(bot)).map((e) => e.createdAt),
  ]);
}

/** `events` in any order; `today` (YYYY-MM-DD) for date-relative rules; `notes` when they were read. */
export function requestHistory(
  issue: IssueRecord,
  events: readonly LabelEvent[],
  config: Config,
  today: string,
  notes: NotesRead | null = null,
): RequestHistory {
  const request = readRequest(issue, config);
  const bot = config.bot.username;
  const timeline = effectiveTimeline({
    recorded: notes?.recorded ?? null,
    labelEvents: events,
    scope: config.labels.engagement,
    botUsername: bot,
  });
  const reached: Partial<Record<State, string>> = {};
  for (const t of timeline) reached[t.state] ??= t.at;
  const last = timeline.at(-1);
  // Without a timeline (the bot never handled it), the label says where it is.
  const state = last?.state ?? labelState(issue.labels, config);
  const lastHumanActivity = notes ? humanActivity(issue, events, notes, bot) : null;
  // Qualifying is a third of the cost of a history; only a request that was not qualified needs its
  // reasons (whatever became of it since: closed by its author, say).
  const q =
    request.form && (reached['not-qualified'] || state === 'not-qualified')
      ? qualify(request, issue.author, config, today)
      : null;
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
    stateSince: last?.at ?? null,
    reached,
    timeline,
    lastHumanActivity,
    problems: request.form
      ? request.problems.map((p) => `${p.label ?? 'Description'}: ${p.code.replace(/-/g, ' ')}`)
      : [],
    notQualified: q ? q.rules.filter((r) => r.kind === 'gate' && r.verdict === 'fail').map((r) => r.title) : [],
  };
}
