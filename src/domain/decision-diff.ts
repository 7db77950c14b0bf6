import { neutralizeCell, neutralizeInline } from './markdown-safety.js';
import type { Decision } from './plan.js';

/**
 * The effect of a configuration change: every request decided under the base and the head
 * configuration, compared. Pure; the wording is for a sales-ops reviewer of the merge request.
 */

export type Aspect = 'form' | 'qualification' | 'priority' | 'flags' | 'assignee' | 'problems' | 'state';

export interface Change {
  aspect: Aspect;
  before: string;
  after: string;
}

export interface RequestUnderBoth {
  iid: number;
  title: string;
  open: boolean;
  /** Undefined: not read as a request under that configuration. */
  base: Decision | undefined;
  head: Decision | undefined;
}

export interface RequestDiff {
  iid: number;
  title: string;
  /** Still open, and the head configuration no longer reads its form version as the base did. */
  breaking: boolean;
  changes: Change[];
  /** One phrase saying why, for the summary ("would no longer qualify (…)"). */
  why: string;
}

export interface Simulation {
  total: number;
  unchanged: number;
  /** Breaking ones first, then by iid. */
  diffs: RequestDiff[];
  summary: string;
}

const formOf = (d: Decision | undefined) =>
  d ? `${d.form.id} v${d.form.version}${d.versionKnown ? '' : ' (unknown version)'}` : 'not a request';
const list = (xs: readonly string[]) => (xs.length === 0 ? 'none' : xs.join(', '));
const routed = (d: Decision) =>
  d.assignee === null
    ? 'nobody'
    : `${d.assignee}${d.pool ? ` (pool ${d.pool}${d.strategy ? `, ${d.strategy}` : ''})` : ''}`;

/** What differs between two decisions on one request, aspect by aspect; empty when nothing does. */
export function diffDecision(base: Decision | undefined, head: Decision | undefined): Change[] {
  if (!base || !head) return base === head ? [] : [{ aspect: 'form', before: formOf(base), after: formOf(head) }];
  const pairs: Array<[Aspect, string, string]> = [
    ['form', formOf(base), formOf(head)],
    ['qualification', qualificationOf(base), qualificationOf(head)],
    ['priority', base.priority, head.priority],
    ['flags', list(base.flags), list(head.flags)],
    ['assignee', routed(base), routed(head)],
    ['problems', list(base.problems), list(head.problems)],
    ['state', base.state, head.state],
  ];
  // The pool and strategy are told, but only another person is a routing change.
  const sameAssignee = (base.assignee ?? '').toLowerCase() === (head.assignee ?? '').toLowerCase();
  return pairs
    .filter(([aspect, b, a]) => b !== a && !(aspect === 'assignee' && sameAssignee))
    .map(([aspect, before, after]) => ({ aspect, before, after }));
}

function qualificationOf(d: Decision): string {
  return d.reasons.length > 0 ? `${d.qualification}: ${d.reasons.join('; ')}` : d.qualification;
}

/**
 * Breaking: an open request the base configuration read with its own form version that the head
 * no longer does (the version is gone, or it now reports problems the base did not: a released
 * version edited in place). Its author would be told their request is wrong without changing it.
 */
export function isBreaking(r: RequestUnderBoth): boolean {
  if (!r.open || !r.base?.versionKnown) return false;
  if (
    !r.head ||
    !r.head.versionKnown ||
    r.head.form.id !== r.base.form.id ||
    r.head.form.version !== r.base.form.version
  )
    return true;
  return r.head.problems.some((p) => !r.base!.problems.includes(p));
}

/** The reason a reviewer reads first: the most consequential change, in words. */
export function whyPhrase(base: Decision | undefined, head: Decision | undefined, breaking: boolean): string {
  if (!base || !head)
    return head
      ? `would now be read as ${formOf(head)}`
      : `would no longer be read as a request (${formOf(base)} unknown)`;
  if (breaking && (!head.versionKnown || head.form.version !== base.form.version))
    return `form ${formOf(base)} would no longer be recognised`;
  if (breaking) return `would report new problems to the author under the same form ${formOf(base)}`;
  if (base.qualification !== head.qualification) {
    const detail = head.reasons.length > 0 ? ` (${head.reasons.join('; ')})` : '';
    if (head.qualification === 'qualified') return 'would now qualify';
    return head.qualification === 'not-qualified'
      ? `would no longer qualify${detail}`
      : 'would lack information to qualify';
  }
  if ((base.assignee ?? '') !== (head.assignee ?? '')) {
    const pool = head.pool
      ? ` (pool ${head.pool}${head.strategy !== base.strategy && head.strategy ? ` now ${head.strategy}` : ''})`
      : '';
    return `would go to ${head.assignee ?? 'nobody'} instead of ${base.assignee ?? 'nobody'}${pool}`;
  }
  if (base.priority !== head.priority) return `priority would be ${head.priority} instead of ${base.priority}`;
  if (list(base.flags) !== list(head.flags)) return `flags would be ${list(head.flags)} instead of ${list(base.flags)}`;
  if (list(base.problems) !== list(head.problems))
    return `the author would be told of ${head.problems.length} problem(s) instead of ${base.problems.length}`;
  if (formOf(base) !== formOf(head)) return `would be read as ${formOf(head)} instead of ${formOf(base)}`;
  return `would move to ${head.state} instead of ${base.state}`;
}

/** What one request would change, or null when both configurations decide it alike. */
export function requestDiff(r: RequestUnderBoth): RequestDiff | null {
  const changes = diffDecision(r.base, r.head);
  const breaking = isBreaking(r);
  if (changes.length === 0 && !breaking) return null;
  return { iid: r.iid, title: r.title, breaking, changes, why: whyPhrase(r.base, r.head, breaking) };
}

/**
 * The simulation of `total` requests from the diffs of those that change (the rest are only
 * counted, so a caller may drop each request's decisions as soon as it is compared).
 */
export function simulationOf(total: number, changed: readonly RequestDiff[]): Simulation {
  const diffs = [...changed].sort((a, b) => Number(b.breaking) - Number(a.breaking) || a.iid - b.iid);
  return { total, unchanged: total - diffs.length, diffs, summary: summaryOf(total, diffs) };
}

export function simulate(requests: readonly RequestUnderBoth[]): Simulation {
  return simulationOf(
    requests.length,
    requests.map(requestDiff).filter((d) => d !== null),
  );
}

/** "3 of 140 requests would change: 2 would go to dana.cse instead of casey.cse (…); 1 would no longer qualify (…)". */
export function summaryOf(total: number, diffs: readonly RequestDiff[]): string {
  if (diffs.length === 0) return `none of ${total} request(s) would change`;
  const groups = new Map<string, number>();
  for (const d of diffs) groups.set(d.why, (groups.get(d.why) ?? 0) + 1);
  const breaking = diffs.filter((d) => d.breaking).length;
  const parts = [...groups].sort((a, b) => b[1] - a[1]).map(([why, n]) => `${n} ${why}`);
  return `${diffs.length} of ${total} request(s) would change${breaking > 0 ? ` (${breaking} breaking)` : ''}: ${parts.join('; ')}`;
}

/** The report as Markdown: the summary, then one table row per changed request (breaking first). */
export function simulationMarkdown(s: Simulation, refs: { base: string; head: string }): string {
  const lines = [
    `**${neutralizeInline(s.summary)}**`,
    '',
    `Decisions under ${neutralizeInline(refs.base)} (base) and ${neutralizeInline(refs.head)} (head), as of the same time; ${s.unchanged} unchanged request(s) not listed.`,
  ];
  if (s.diffs.length === 0) return `${lines.join('\n')}\n`;
  lines.push('', '| Request | Why | What changes (base → head) |', '| --- | --- | --- |');
  for (const d of s.diffs) {
    const what = d.changes.map((c) => neutralizeCell(`${c.aspect}: ${c.before} → ${c.after}`)).join('<br>');
    lines.push(
      `| ${d.breaking ? '**breaking** ' : ''}#${d.iid} ${neutralizeCell(d.title)} | ${neutralizeCell(d.why)} | ${what} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
