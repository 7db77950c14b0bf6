import { tz } from '@date-fns/tz';
import { addDays, addWeeks, startOfISOWeek } from 'date-fns';
import { businessDaysBetween, localDay, regionCalendar } from './business-days.js';
import type { Config } from './config.js';
import { isoWeekLabel, type Period } from './report-period.js';
import type { RequestHistory } from './request-history.js';
import { acceptDeadline, staleDeadline } from './sla.js';
import { CLOSED_STATES, STATES, type State } from './workflow.js';

/**
 * The programme report: what happened to Scale Engagement Requests in one period, as plain
 * JSON-serialisable data. Pure: no clock, environment or I/O; `now` is a parameter.
 *
 * Only requests made from a known form (`form !== null`) count anywhere in the report.
 *
 * Durations are in hours, rounded to 2 decimals after the statistics are computed on exact
 * values. Percentiles:
 * - median: the middle value of the sorted values; for an even count, the mean of the two middle
 *   values (4 values 1, 2, 3, 10 → 2.5);
 * - p90: nearest rank, i.e. the value at 1-based rank ⌈0.9 × n⌉ of the sorted values (10 values →
 *   the 9th, 5 values → the 5th, 1 value → that value).
 * Both are null when there are no values.
 */

export type FunnelStage =
  'needs-info' | 'not-qualified' | 'assigned' | 'accepted' | 'completed' | 'declined' | 'withdrawn';
export const FUNNEL_STAGES: readonly FunnelStage[] = [
  'needs-info',
  'not-qualified',
  'assigned',
  'accepted',
  'completed',
  'declined',
  'withdrawn',
];

/** A count under a configuration id and its display name. */
export interface NamedCount {
  id: string;
  name: string;
  count: number;
}

export interface FormCount {
  form: string;
  version: number;
  title: string;
  count: number;
}

export interface FunnelStep {
  stage: FunnelStage;
  /** Requests opened in the period that ever reached the stage (`assigned`: assigned or limit-reached). */
  reached: number;
  /** Of those, how many are open now. */
  stillOpen: number;
}

export interface DurationStats {
  /** Requests that reached the milestone inside the period, whenever they were created. */
  count: number;
  medianHours: number | null;
  p90Hours: number | null;
}

export interface CseRow {
  username: string;
  name: string | null;
  /** Has the `cse` role in the configuration (false: some other assignee). */
  cse: boolean;
  /** Open requests, in a state that is not closed, assigned to them now. */
  openLoad: number;
  /** Requests completed in the period with them among the assignees. */
  completions: number;
}

export interface ReportBreach {
  kind: 'accept' | 'stale';
  iid: number;
  title: string;
  url: string;
  /** When the clock started. */
  since: string;
  due: string;
  /** When the request was accepted, declined or left the waiting state late; null while still late. */
  resolvedAt: string | null;
  /** Still unresolved at the end of the period (or now, for a period not over yet). */
  openAtEnd: boolean;
  /** Whole business days of the request's region from `due` to the resolution or the end of the period, whichever came first. */
  lateBusinessDays: number;
  lateHours: number;
  /** Hours from `since` to the resolution or the end of the period, whichever came first: how long it waited. */
  waitedHours: number;
}

export interface RankedText {
  text: string;
  count: number;
}

export interface AtRiskRequest {
  iid: number;
  title: string;
  url: string;
  customer: string | null;
  renewalDate: string | null;
  /** Calendar days from today to the renewal date (null without a renewal date). */
  daysToRenewal: number | null;
  reasons: string[];
  segment: string | null;
  state: State | null;
  assignees: string[];
}

export interface SeriesBucket {
  label: string;
  from: string;
  to: string;
}

export interface TimeSeries {
  /** Days for periods of at most 14 days, ISO weeks otherwise. */
  granularity: 'day' | 'week';
  buckets: SeriesBucket[];
  /** One count per bucket, in bucket order. */
  segments: { id: string; name: string; counts: number[] }[];
}

export interface OutcomeCount {
  /** The current state; `none` when the request carries no state label. */
  state: State | 'none';
  count: number;
}

/** One request opened in the period: a CSV row. */
export interface RequestRow {
  iid: number;
  url: string;
  createdAt: string;
  form: string;
  formVersion: number;
  segment: string | null;
  region: string | null;
  state: State | null;
  open: boolean;
  assignedAt: string | null;
  acceptedAt: string | null;
  completedAt: string | null;
  hoursToAssign: number | null;
  hoursToAccept: number | null;
  hoursToComplete: number | null;
}

export interface Report {
  /** The report's title, from `report.title` with the period label. */
  title: string;
  period: Period;
  generatedAt: string;
  /** No request was opened in the period. */
  empty: boolean;
  settings: { acceptDays: number; staleDays: number; renewalAtRiskDays: number; top: number; timezone: string };
  opened: { total: number; bySegment: NamedCount[]; byRegion: NamedCount[]; byForm: FormCount[] };
  outcomes: OutcomeCount[];
  funnel: { steps: FunnelStep[]; opened: number; stillOpen: number };
  durations: { assign: DurationStats; accept: DurationStats; complete: DurationStats };
  cses: CseRow[];
  breaches: ReportBreach[];
  topProblems: RankedText[];
  topNotQualified: RankedText[];
  atRisk: AtRiskRequest[];
  series: TimeSeries;
  rows: RequestRow[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const utc = tz('UTC');
const ms = (iso: string) => Date.parse(iso);
const round2 = (n: number) => Math.round(n * 100) / 100;
/** Code-point order: the same on every machine, whatever its locale. */
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The median as documented above; null for no values. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The nearest-rank percentile `p` (0 < p ≤ 100): the value at 1-based rank ⌈p/100 × n⌉. */
export function nearestRank(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}

function stats(hours: readonly number[]): DurationStats {
  const m = median(hours);
  const p = nearestRank(hours, 90);
  return { count: hours.length, medianHours: m === null ? null : round2(m), p90Hours: p === null ? null : round2(p) };
}

/** The earliest of the given instants (ISO), or null. */
function earliest(...instants: (string | undefined | null)[]): string | null {
  let best: string | null = null;
  for (const i of instants) if (i && (best === null || ms(i) < ms(best))) best = i;
  return best;
}

const assignedAt = (h: RequestHistory) => earliest(h.reached.assigned, h.reached['limit-reached']);

function hoursBetween(from: string, to: string | null): number | null {
  return to === null ? null : (ms(to) - ms(from)) / HOUR;
}

function reachedStage(h: RequestHistory, stage: FunnelStage): boolean {
  return stage === 'assigned' ? assignedAt(h) !== null : h.reached[stage] !== undefined;
}

const isOpenNow = (h: RequestHistory) => h.open && !(h.state !== null && CLOSED_STATES.includes(h.state));

/** Counts texts (each at most once per request), most frequent first, then alphabetically; the top `top`. */
function rank(lists: readonly (readonly string[])[], top: number): RankedText[] {
  const counts = new Map<string, number>();
  for (const list of lists) for (const text of new Set(list)) counts.set(text, (counts.get(text) ?? 0) + 1);
  return [...counts]
    .map(([text, count]) => ({ text, count }))
    .sort((a, b) => b.count - a.count || cmp(a.text, b.text))
    .slice(0, top);
}

/** Config ids in configuration order, then any other id seen, alphabetically. */
function idsOf(configured: readonly string[], seen: readonly (string | null)[]): string[] {
  const extra = [...new Set(seen.filter((s): s is string => s !== null && !configured.includes(s)))].sort();
  return [...configured, ...extra];
}

function countBy(
  ids: readonly string[],
  names: Record<string, { name: string }>,
  values: readonly (string | null)[],
): NamedCount[] {
  return ids.map((id) => ({ id, name: names[id]?.name ?? id, count: values.filter((v) => v === id).length }));
}

function seriesOf(
  period: Period,
  opened: readonly RequestHistory[],
  segmentIds: readonly string[],
  config: Config,
): TimeSeries {
  const from = new Date(period.from);
  const to = new Date(period.to);
  const buckets: SeriesBucket[] = [];
  let granularity: TimeSeries['granularity'];
  if (to.getTime() - from.getTime() <= 14 * DAY) {
    granularity = 'day';
    for (let at = from; at < to; at = new Date(addDays(at, 1, { in: utc }).getTime())) {
      const end = addDays(at, 1, { in: utc });
      buckets.push({
        label: at.toISOString().slice(0, 10),
        from: at.toISOString(),
        to: new Date(Math.min(end.getTime(), to.getTime())).toISOString(),
      });
    }
  } else {
    granularity = 'week';
    for (let week = startOfISOWeek(from, { in: utc }); week < to; week = addWeeks(week, 1, { in: utc })) {
      const end = addWeeks(week, 1, { in: utc });
      buckets.push({
        label: isoWeekLabel(week),
        from: new Date(Math.max(week.getTime(), from.getTime())).toISOString(),
        to: new Date(Math.min(end.getTime(), to.getTime())).toISOString(),
      });
    }
  }
  const segments = segmentIds.map((id) => ({
    id,
    name: config.segments[id]?.name ?? id,
    counts: buckets.map(() => 0),
  }));
  for (const h of opened) {
    const t = ms(h.createdAt);
    const b = buckets.findIndex((x) => t >= ms(x.from) && t < ms(x.to));
    const s = segments.find((x) => x.id === h.segment);
    if (b >= 0 && s) s.counts[b]!++;
  }
  return { granularity, buckets, segments };
}

const WAITING: readonly State[] = ['assigned', 'limit-reached'];

/**
 * Accept-SLA breaches whose deadline fell in [from, min(to, now)): the assigned CSE accepted or
 * declined after the deadline, or not at all. A request that left the waiting states otherwise
 * (withdrawn, sent back for information...) before its deadline stopped the clock: no breach.
 */
function acceptBreach(h: RequestHistory, config: Config, from: number, until: number): ReportBreach | null {
  const d = acceptDeadline(h, config);
  if (!d) return null;
  const due = ms(d.due);
  if (!(due >= from && due < until)) return null;
  const answered = earliest(h.reached.accepted, h.reached.declined);
  const leftOtherwise = h.state !== null && !WAITING.includes(h.state) ? (h.stateSince ?? h.closedAt) : null;
  const resolvedAt = answered ?? leftOtherwise;
  if (resolvedAt !== null && ms(resolvedAt) <= due) return null;
  return breach('accept', h, d.since, d.due, resolvedAt, config, until);
}

/** `end`: the end of the period, or now while the period runs. */
function breach(
  kind: ReportBreach['kind'],
  h: RequestHistory,
  since: string,
  due: string,
  resolvedAt: string | null,
  config: Config,
  end: number,
): ReportBreach {
  const openAtEnd = resolvedAt === null || ms(resolvedAt) >= end;
  const until = new Date(openAtEnd ? end : ms(resolvedAt!));
  const round1 = (n: number) => Math.round(n * 10) / 10;
  return {
    kind,
    iid: h.iid,
    title: h.title,
    url: h.webUrl,
    since,
    due,
    resolvedAt,
    openAtEnd,
    lateBusinessDays: businessDaysBetween(new Date(due), until, regionCalendar(config, h.region)),
    lateHours: round1((until.getTime() - ms(due)) / HOUR),
    waitedHours: round1((until.getTime() - ms(since)) / HOUR),
  };
}

/**
 * A stale engagement whose deadline fell in [from, until): in progress, no person did anything on
 * it for `sla.stale.days` (see `staleDeadline`). Only the request's current stint is known (its
 * people's activity is read for open requests only), so a stale spell that ended before the report
 * ran is not listed.
 */
function staleBreach(h: RequestHistory, config: Config, from: number, until: number): ReportBreach | null {
  const d = staleDeadline(h, config);
  if (!d || !(ms(d.due) >= from && ms(d.due) < until)) return null;
  return breach('stale', h, d.since, d.due, null, config, until);
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

function atRiskOf(h: RequestHistory, today: string, windowDays: number): AtRiskRequest | null {
  const renewal =
    h.renewalDate !== null && ISO_DAY.test(h.renewalDate) && !Number.isNaN(ms(`${h.renewalDate}T00:00:00Z`))
      ? h.renewalDate
      : null;
  const days = renewal === null ? null : Math.round((ms(`${renewal}T00:00:00Z`) - ms(`${today}T00:00:00Z`)) / DAY);
  const reasons: string[] = [];
  if (h.atRisk) reasons.push('flagged at risk');
  if (days !== null && days >= 0 && days <= windowDays)
    reasons.push(days === 0 ? 'renewal today' : `renewal in ${days} day${days === 1 ? '' : 's'}`);
  if (reasons.length === 0) return null;
  return {
    iid: h.iid,
    title: h.title,
    url: h.webUrl,
    customer: h.customer,
    renewalDate: renewal,
    daysToRenewal: days,
    reasons,
    segment: h.segment,
    state: h.state,
    assignees: [...h.assignees],
  };
}

export function buildReport(requests: readonly RequestHistory[], period: Period, config: Config, now: Date): Report {
  const from = ms(period.from);
  const to = ms(period.to);
  const inPeriod = (iso: string | null | undefined) => {
    if (!iso) return false;
    const t = ms(iso);
    return t >= from && t < to;
  };
  const all = requests.filter((h) => h.form !== null);
  const opened = all
    .filter((h) => inPeriod(h.createdAt))
    .sort((a, b) => ms(a.createdAt) - ms(b.createdAt) || a.iid - b.iid);
  const segmentIds = idsOf(
    Object.keys(config.segments),
    all.map((h) => h.segment),
  );
  const regionIds = idsOf(
    Object.keys(config.regions),
    all.map((h) => h.region),
  );
  return {
    title: config.report.title.replaceAll('{period}', period.label),
    period: { ...period },
    generatedAt: now.toISOString(),
    empty: opened.length === 0,
    settings: {
      acceptDays: config.sla.accept.days,
      staleDays: config.sla.stale.days,
      renewalAtRiskDays: config.report.renewalAtRiskDays,
      top: config.report.top,
      timezone: config.calendar.timezone,
    },
    opened: openedCounts(opened, segmentIds, regionIds, config),
    outcomes: outcomesOf(opened),
    funnel: funnelOf(opened),
    durations: durationsIn(all, inPeriod),
    cses: cseRows(all, config, inPeriod),
    breaches: breachesOf(all, config, from, Math.min(to, now.getTime())),
    topProblems: rank(
      opened.map((h) => h.problems),
      config.report.top,
    ),
    // Every request that was not qualified, whatever became of it since (closed by its author, say).
    topNotQualified: rank(
      opened.filter((h) => reachedStage(h, 'not-qualified')).map((h) => h.notQualified),
      config.report.top,
    ),
    atRisk: atRiskNow(all, config, now),
    series: seriesOf(period, opened, segmentIds, config),
    rows: opened.map(requestRow),
  };
}

function openedCounts(
  opened: readonly RequestHistory[],
  segmentIds: string[],
  regionIds: string[],
  config: Config,
): Report['opened'] {
  return {
    total: opened.length,
    bySegment: countBy(
      segmentIds,
      config.segments,
      opened.map((h) => h.segment),
    ),
    byRegion: countBy(
      regionIds,
      config.regions,
      opened.map((h) => h.region),
    ),
    byForm: formCounts(opened, config),
  };
}

/** Time from opening to each milestone, over the requests that reached it inside the period. */
function durationsIn(
  all: readonly RequestHistory[],
  inPeriod: (iso: string | null | undefined) => boolean,
): Report['durations'] {
  const durationsOf = (milestone: (h: RequestHistory) => string | null) =>
    stats(
      all.flatMap((h) => {
        const at = milestone(h);
        return at !== null && inPeriod(at) ? [(ms(at) - ms(h.createdAt)) / HOUR] : [];
      }),
    );
  return {
    assign: durationsOf(assignedAt),
    accept: durationsOf((h) => h.reached.accepted ?? null),
    complete: durationsOf((h) => h.reached.completed ?? null),
  };
}

function formCounts(opened: readonly RequestHistory[], config: Config): FormCount[] {
  const counts = new Map<string, FormCount>();
  for (const h of opened) {
    const f = h.form!;
    const key = `${f.id}\u0000${f.version}`;
    const entry = counts.get(key) ?? {
      form: f.id,
      version: f.version,
      title: config.forms.find((x) => x.id === f.id)?.title ?? f.id,
      count: 0,
    };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => cmp(a.form, b.form) || a.version - b.version);
}

function outcomesOf(opened: readonly RequestHistory[]): Report['outcomes'] {
  const counts = new Map<State | 'none', number>();
  for (const h of opened) counts.set(h.state ?? 'none', (counts.get(h.state ?? 'none') ?? 0) + 1);
  return [...STATES, 'none' as const]
    .filter((s) => counts.has(s))
    .map((state) => ({ state, count: counts.get(state)! }));
}

function funnelOf(opened: readonly RequestHistory[]): Report['funnel'] {
  const steps = FUNNEL_STAGES.map((stage) => {
    const reached = opened.filter((h) => reachedStage(h, stage));
    return { stage, reached: reached.length, stillOpen: reached.filter((h) => h.open).length };
  });
  return { steps, opened: opened.length, stillOpen: opened.filter((h) => h.open).length };
}

/** CSEs: the configured ones in configuration order, then any other assignee, alphabetically. */
function cseRows(
  all: readonly RequestHistory[],
  config: Config,
  inPeriod: (iso: string | null | undefined) => boolean,
): CseRow[] {
  const bot = config.bot.username.toLowerCase();
  const cses = new Map<string, CseRow>();
  const row = (username: string, name: string | null, cse: boolean) =>
    cses.set(username.toLowerCase(), { username, name, cse, openLoad: 0, completions: 0 });
  for (const p of config.people) if (p.roles.includes('cse')) row(p.username, p.name ?? null, true);
  const others = [...new Set(all.flatMap((h) => h.assignees))]
    .filter((u) => !cses.has(u.toLowerCase()) && u.toLowerCase() !== bot)
    .sort((a, b) => cmp(a.toLowerCase(), b.toLowerCase()));
  for (const u of others) if (!cses.has(u.toLowerCase())) row(u, config.person(u)?.name ?? null, false);
  for (const h of all) {
    for (const a of new Set(h.assignees.map((x) => x.toLowerCase()))) {
      const r = cses.get(a);
      if (!r) continue;
      if (isOpenNow(h)) r.openLoad++;
      if (inPeriod(h.reached.completed)) r.completions++;
    }
  }
  return [...cses.values()];
}

/** `until`: the end of the period, or now while the period runs. */
function breachesOf(all: readonly RequestHistory[], config: Config, from: number, until: number): ReportBreach[] {
  const breaches: ReportBreach[] = [];
  for (const h of all) {
    for (const b of [acceptBreach(h, config, from, until), staleBreach(h, config, from, until)])
      if (b) breaches.push(b);
  }
  return breaches.sort((a, b) => ms(a.due) - ms(b.due) || a.iid - b.iid || cmp(a.kind, b.kind));
}

function atRiskNow(all: readonly RequestHistory[], config: Config, now: Date): AtRiskRequest[] {
  const today = localDay(now, config.calendar.timezone);
  return all
    .filter(isOpenNow)
    .map((h) => atRiskOf(h, today, config.report.renewalAtRiskDays))
    .filter((r): r is AtRiskRequest => r !== null)
    .sort((a, b) => cmp(a.renewalDate ?? '9999', b.renewalDate ?? '9999') || a.iid - b.iid);
}

function requestRow(h: RequestHistory): RequestRow {
  const assigned = assignedAt(h);
  const accepted = h.reached.accepted ?? null;
  const completed = h.reached.completed ?? null;
  const hours = (at: string | null) => {
    const v = hoursBetween(h.createdAt, at);
    return v === null ? null : round2(v);
  };
  return {
    iid: h.iid,
    url: h.webUrl,
    createdAt: h.createdAt,
    form: h.form!.id,
    formVersion: h.form!.version,
    segment: h.segment,
    region: h.region,
    state: h.state,
    open: h.open,
    assignedAt: assigned,
    acceptedAt: accepted,
    completedAt: completed,
    hoursToAssign: hours(assigned),
    hoursToAccept: hours(accepted),
    hoursToComplete: hours(completed),
  };
}
