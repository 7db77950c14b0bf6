import { neutralizeCell, neutralizeInline } from '../domain/markdown-safety.js';
import { fitDescription } from '../domain/text-limits.js';
import type { DurationStats, Report, RequestRow } from '../domain/report.js';
import { renderTemplate } from './handlebars.js';

/**
 * Renders a programme report three ways: GitLab Markdown (for the report issue), JSON (the report
 * as is) and CSV (one row per request opened in the period). Every text a person typed (titles,
 * customer names, problem texts, usernames) goes through the Markdown safety gate; requests are
 * linked by URL, never by `#iid`, so the report does not cross-post into them.
 */

export interface RenderedReport {
  markdown: string;
  json: string;
  csv: string;
}

/**
 * Rows shown per long list in the Markdown: a large programme's breaches would otherwise outgrow
 * GitLab's limit on an issue description (1 MiB of UTF-8). report.json and report.csv keep all.
 */
export const MAX_ROWS = 100;

export function renderReport(report: Report): RenderedReport {
  return {
    // Cut to GitLab's limit when the longest rows would pass it.
    markdown: fitDescription(
      `${renderTemplate('report/report.md.hbs', viewModel(report))
        .replace(/\n{3,}/g, '\n\n')
        .trim()}\n`,
    ),
    json: JSON.stringify(report, null, 2),
    csv: toCsv(report.rows),
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

/** A table cell from user text; `—` for nothing. */
const cell = (text: string | null | undefined): string => {
  const safe = text == null ? '' : neutralizeCell(text);
  return safe === '' ? '—' : safe;
};

/** Only http(s) links, with whatever could end the link or the table cell percent-encoded. */
export function safeUrl(url: string): string | null {
  if (!/^https?:\/\/[^\s]/i.test(url.trim())) return null;
  return url
    .trim()
    .replace(/[\s()<>|[\]`"'\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** A link to a request by its URL, its title as the (neutralized) text. */
function link(title: string, url: string): string {
  const text = neutralizeCell(title) || 'untitled request';
  const href = safeUrl(url);
  return href === null ? text : `[${text}](${href})`;
}

const when = (iso: string | null): string => (iso === null ? '—' : `${iso.slice(0, 16).replace('T', ' ')} UTC`);
/**
 * A duration for people: hours under a day (`2.5 h`), days from one day on (`1.7 d`), one decimal.
 * report.json and report.csv keep exact hours.
 */
export function humanHours(h: number | null): string {
  if (h === null) return '—';
  const one = (n: number) => String(Math.round(n * 10) / 10);
  return h < 24 ? `${one(h)} h` : `${one(h / 24)} d`;
}
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Text inside a quoted Mermaid label: no quotes, no line breaks, no backticks, no fence. */
const mermaidText = (text: string): string =>
  text
    .replace(/["`\\\r\n\u2028\u2029#;]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** A Mermaid `pie` of outcomes; null when there is nothing to draw. */
export function outcomePie(report: Report): string | null {
  const slices = report.outcomes.filter((o) => o.count > 0);
  if (slices.length === 0) return null;
  return [
    'pie showData',
    `    title Outcomes of requests opened in ${mermaidText(report.period.label)}`,
    ...slices.map((o) => `    "${mermaidText(o.state)}" : ${o.count}`),
  ].join('\n');
}

/** One Mermaid `xychart-beta` bar chart per segment with any request in the period. */
export function seriesCharts(report: Report): { segment: string; chart: string }[] {
  const unit = report.series.granularity === 'day' ? 'day' : 'week';
  const labels = report.series.buckets.map((b) => `"${mermaidText(b.label)}"`).join(', ');
  return report.series.segments
    .filter((s) => s.counts.some((c) => c > 0))
    .map((s) => ({
      segment: neutralizeInline(s.name),
      chart: [
        'xychart-beta',
        `    title "${mermaidText(s.name)}: requests opened per ${unit}"`,
        `    x-axis [${labels}]`,
        `    y-axis "Requests" 0 --> ${Math.max(1, ...s.counts)}`,
        `    bar [${s.counts.join(', ')}]`,
      ].join('\n'),
    }));
}

const STAGE_NAMES: Record<string, string> = {
  'needs-info': 'Needs info',
  'not-qualified': 'Not qualified',
  assigned: 'Assigned (incl. limit reached)',
  accepted: 'Accepted',
  completed: 'Completed',
  declined: 'Declined',
  withdrawn: 'Withdrawn',
};

function durationRow(milestone: string, s: DurationStats) {
  return { milestone, count: s.count, median: humanHours(s.medianHours), p90: humanHours(s.p90Hours) };
}

/** The requests opened, by segment, region and form. */
function openedTables(r: Report) {
  return {
    bySegment: r.opened.bySegment.map((s) => ({ name: cell(s.name), id: cell(s.id), count: s.count })),
    byRegion: r.opened.byRegion.map((s) => ({ name: cell(s.name), id: cell(s.id), count: s.count })),
    byForm: r.opened.byForm.map((f) => ({
      title: cell(f.title),
      form: cell(f.form),
      version: f.version,
      count: f.count,
    })),
  };
}

function breachRow(b: Report['breaches'][number]) {
  return {
    kind: b.kind === 'accept' ? 'Accept' : 'Stale',
    request: link(b.title, b.url),
    due: when(b.due),
    // Whole business days (what the service level counts), then the calendar time.
    late: `${plural(b.lateBusinessDays, 'business day')} (${humanHours(b.lateHours)})`,
    waited: humanHours(b.waitedHours),
    resolved: b.openAtEnd ? 'open at the end of the period' : when(b.resolvedAt),
  };
}

function atRiskRow(a: Report['atRisk'][number]) {
  return {
    request: link(a.title, a.url),
    customer: cell(a.customer),
    renewal: a.renewalDate ?? '—',
    reasons: cell(a.reasons.join(', ')),
    assignees: cell(a.assignees.join(', ')),
  };
}

/** Requests opened per day or ISO week, by segment: the table and its charts. */
function seriesTable(r: Report) {
  return {
    unit: r.series.granularity === 'day' ? 'Day' : 'ISO week',
    header: r.series.segments.map((s) => cell(s.name)),
    rows: r.series.buckets.map((b, i) => ({
      label: b.label,
      counts: r.series.segments.map((s) => s.counts[i] ?? 0),
    })),
    charts: r.empty ? [] : seriesCharts(r),
  };
}

function viewModel(r: Report) {
  const pie = outcomePie(r);
  return {
    title: neutralizeInline(r.title),
    period: {
      label: neutralizeInline(r.period.label),
      from: when(r.period.from),
      to: when(r.period.to),
    },
    generatedAt: when(r.generatedAt),
    empty: r.empty,
    total: r.opened.total,
    openedSentence: `${plural(r.opened.total, 'request was', 'requests were')} opened in this period.`,
    ...openedTables(r),
    pie,
    funnel: r.funnel.steps.map((s) => ({
      stage: STAGE_NAMES[s.stage] ?? s.stage,
      reached: s.reached,
      stillOpen: s.stillOpen,
    })),
    stillOpen: r.funnel.stillOpen,
    durations: [
      durationRow('Time to assign', r.durations.assign),
      durationRow('Time to accept', r.durations.accept),
      durationRow('Time to complete', r.durations.complete),
    ],
    cses: r.cses.map((c) => ({
      who: c.name ? `${cell(c.name)} (${cell(c.username)})` : cell(c.username),
      note: c.cse ? '' : ' ¹',
      openLoad: c.openLoad,
      completions: c.completions,
    })),
    hasOtherAssignees: r.cses.some((c) => !c.cse),
    sla: {
      accept: plural(r.settings.acceptDays, 'business day'),
      stale: plural(r.settings.staleDays, 'business day'),
    },
    breaches: r.breaches.slice(0, MAX_ROWS).map(breachRow),
    moreBreaches: Math.max(0, r.breaches.length - MAX_ROWS),
    top: r.settings.top,
    topProblems: r.topProblems.map((p) => ({ text: cell(p.text), count: p.count })),
    topNotQualified: r.topNotQualified.map((p) => ({ text: cell(p.text), count: p.count })),
    renewalAtRiskDays: r.settings.renewalAtRiskDays,
    atRisk: r.atRisk.slice(0, MAX_ROWS).map(atRiskRow),
    moreAtRisk: Math.max(0, r.atRisk.length - MAX_ROWS),
    series: seriesTable(r),
  };
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

export const CSV_HEADER = [
  'iid',
  'url',
  'created_at',
  'form',
  'form_version',
  'segment',
  'region',
  'state',
  'open',
  'assigned_at',
  'accepted_at',
  'completed_at',
  'hours_to_assign',
  'hours_to_accept',
  'hours_to_complete',
] as const;

/**
 * One CSV cell: RFC 4180 quoting (quotes doubled; quoted when holding a comma, quote or line
 * break), and a `'` before anything a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, and
 * the tab or carriage return some spreadsheets skip before one).
 */
export function csvCell(value: string | number | boolean | null): string {
  let s = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function toCsv(rows: readonly RequestRow[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of rows) {
    lines.push(
      [
        r.iid,
        r.url,
        r.createdAt,
        r.form,
        r.formVersion,
        r.segment,
        r.region,
        r.state,
        r.open,
        r.assignedAt,
        r.acceptedAt,
        r.completedAt,
        r.hoursToAssign,
        r.hoursToAccept,
        r.hoursToComplete,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  // RFC 4180: CRLF line ends, the last one included.
  return `${lines.join('\r\n')}\r\n`;
}
