import { subMonths } from 'date-fns';
import { accountKey } from './account.js';
import type { Config } from './config.js';
import { noteMarker, type NoteState } from './bot-note-marker.js';
import { neutralizeCell, neutralizeInline } from './markdown-safety.js';
import { parse } from './parse.js';
import type { EngagementRecord, NoteWrite, Plan } from './plan.js';
import { qualify, type Qualification } from './qualify.js';
import type { ParsedRequest } from './request.js';
import { route, type RouteDecision, type Workload } from './route.js';
import type { BotNote, IssueSnapshot, RelatedIssue } from './snapshot.js';
import { INTAKE_STATES } from './workflow.js';

/**
 * The one decision function: from a snapshot of an issue (and what else the bot knows) to the
 * plan that brings the issue where it should be. Pure: time, config, GitLab data and the note
 * renderer are parameters, so the webhook worker, reconcile, replay and dry runs all agree.
 */

export interface DecideInput {
  issue: IssueSnapshot;
  /** Other issues GitLab found for the same account (any state); this issue may be among them. */
  related: RelatedIssue[];
  workload: Workload;
}

/** The templates a plan's notes are rendered from (`templates/notes/<name>.md.hbs`). */
export type NoteTemplate = 'request' | 'assigned' | 'not-a-request';
export type RenderNote = (template: NoteTemplate, model: object) => string;

/** States intake may replace; any other `engagement::` state belongs to the lifecycle and is kept. */
const BOT_OWNED_STATES: readonly string[] = [...INTAKE_STATES, 'not-a-request'];

export const REQUEST_NOTE = 'request';
export const NOT_A_REQUEST_NOTE = 'not-a-request';
const assignedNoteKey = (username: string) => `assigned-${username.toLowerCase()}`;

interface RequestNoteState extends NoteState {
  /** Whom the bot assigned; a different assignee means a person chose. */
  assigned?: string;
  /** Why, as decided at the time: kept so the note reads the same on every later pass. */
  reason?: string;
  /** Whom this note itself mentions (the assignee told on the note's creation). */
  mentioned?: string;
  /** Whom the bot has told about their assignment (each exactly once). */
  notified?: string[];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function decide(input: DecideInput, config: Config, now: Date, render: RenderNote): Plan {
  const { issue } = input;
  const plan: Plan = { iid: issue.iid, labels: { add: [], remove: [] }, assignees: null, notes: [], summary: [], engagement: null, followUps: [] };
  if (issue.state === 'closed') {
    plan.summary.push('issue is closed: intake has nothing to do');
    return plan;
  }
  const today = now.toISOString().slice(0, 10);
  const request = parse(issue.description, config.catalog, { labels: issue.labels });
  if (!request.form) return decideNonRequest(plan, issue, config, render);

  const qualification = qualify(request, issue.author, config, today);
  const key = accountKey(request, config);
  const { duplicates, history } = relatedRequests(input.related, issue, key, config, now);
  const labels = config.labels;
  const stateLabel = (s: string) => `${labels.engagement}::${s}`;
  const current = currentState(issue.labels, config);
  const lifecycle = current !== null && !BOT_OWNED_STATES.includes(current);

  const noteState = (findNote(issue.botNotes, REQUEST_NOTE)?.state ?? {}) as RequestNoteState;
  const override = issue.labels.some((l) => same(l, labels.override));
  const notQualified = qualification.status === 'not-qualified' && !override;
  const needsInfo = request.problems.length > 0 || qualification.status === 'incomplete';
  const limitReached = history.length >= config.intake.engagementLimit;

  // Assignment: a person's choice is kept; the bot's own choice is sticky; otherwise route.
  let routing: RouteDecision | null = null;
  const botAssigned = noteState.assigned;
  const byHuman = issue.assignees.length > 0 && !(botAssigned && issue.assignees.length === 1 && same(issue.assignees[0]!, botAssigned));
  if (!lifecycle && !notQualified && !needsInfo) {
    if (byHuman) {
      routing = route(request, config, input.workload, today, { assignees: issue.assignees, byHuman: true });
    } else if (botAssigned && issue.assignees.length === 1) {
      routing = { assignee: issue.assignees[0]!, via: 'kept', pool: null, strategy: null, reason: `kept the earlier assignment of ${botAssigned}`, skipped: [] };
    } else {
      routing = route(request, config, input.workload, today);
    }
  }

  let state: string | null = current;
  if (!lifecycle) {
    if (notQualified) state = 'not-qualified';
    else if (needsInfo) state = 'needs-info';
    else if (routing?.assignee) state = limitReached ? 'limit-reached' : 'assigned';
    else state = 'new';
  }

  // Labels: the bot manages its scopes and flags, and leaves every other label alone.
  const want = new Set<string>([
    `${labels.form}::${request.form.id}`,
    config.catalog.segmentLabel(request.form.segment),
    config.catalog.regionLabel(request.form.region),
    `${labels.priority}::${qualification.priority}`,
  ]);
  if (state !== null) want.add(stateLabel(state));
  if (qualification.flags.includes('escalation-candidate')) want.add(labels.escalationCandidate);
  if (qualification.flags.includes('at-risk')) want.add(labels.atRisk);
  if (duplicates.length > 0) want.add(labels.duplicate);
  plan.followUps = duplicates.filter((d) => !d.labels.some((l) => same(l, labels.duplicate))).map((d) => d.iid);
  const managedScopes = [labels.form, labels.segment, labels.region, labels.priority].map((s) => `${s}::`.toLowerCase());
  const managedFlags = [labels.escalationCandidate, labels.atRisk, labels.duplicate].map((l) => l.toLowerCase());
  const isManaged = (l: string) => {
    const lower = l.toLowerCase();
    if (managedFlags.includes(lower) || managedScopes.some((p) => lower.startsWith(p))) return true;
    // Engagement states: intake owns its own; lifecycle states are only replaced by intake states.
    return !lifecycle && lower.startsWith(`${labels.engagement}::`.toLowerCase());
  };
  diffLabels(plan, issue.labels, want, isManaged);

  // Assignees: set only when the bot routes to someone who is not already the assignee.
  const assignee = routing?.assignee ?? null;
  const assignNow = assignee !== null && routing!.via !== 'kept' && !issue.assignees.some((a) => same(a, assignee));
  if (assignNow) {
    plan.assignees = [assignee];
    plan.summary.push(`assign ${assignee}: ${routing!.reason}`);
  } else if (routing) plan.summary.push(`assignment: ${routing.reason}`);

  // Notes: one request note kept current; a person learns of their assignment exactly once.
  const existing = findNote(issue.botNotes, REQUEST_NOTE);
  const notified = new Set((noteState.notified ?? []).map((u) => u.toLowerCase()));
  const assignedByBot = assignNow ? assignee : byHuman ? undefined : botAssigned;
  const mentionInRequestNote = assignNow && existing === undefined;

  let notifyNote: NoteWrite | null = null;
  if (assignNow && !mentionInRequestNote && !notified.has(assignee.toLowerCase())) {
    const noteKey = assignedNoteKey(assignee);
    if (!findNote(issue.botNotes, noteKey)) {
      notifyNote = {
        action: 'create',
        key: noteKey,
        body: `${noteMarker(noteKey)}\n${render('assigned', assignedModel(assignee, request, config, routing!))}`,
      };
    }
  }
  if (assignNow) notified.add(assignee.toLowerCase());
  const reason = assignNow ? routing!.reason : assignedByBot ? noteState.reason : undefined;
  const mentioned = mentionInRequestNote ? assignee : existing ? noteState.mentioned : undefined;
  const nextState: RequestNoteState = {
    ...(assignedByBot ? { assigned: assignedByBot } : {}),
    ...(assignedByBot && reason ? { reason } : {}),
    ...(mentioned ? { mentioned } : {}),
    ...(notified.size > 0 ? { notified: [...notified].sort() } : {}),
  };
  // What the note says about assignment comes from that stable state, so a later pass that merely
  // keeps the assignment renders the very same note (and writes nothing).
  const assignment: AssignmentView | null = byHuman
    ? { assignee: issue.assignees.join(', '), mention: false, reason: 'assigned by a person', skipped: [] }
    : assignedByBot
      ? { assignee: assignedByBot, mention: mentioned !== undefined && same(mentioned, assignedByBot), reason: reason ?? 'assigned by the bot', skipped: assignNow ? routing!.skipped.map((x) => `${x.username}: ${x.detail}`) : [] }
      : routing && !routing.assignee
        ? { assignee: null, mention: false, reason: routing.reason, skipped: routing.skipped.map((x) => `${x.username}: ${x.detail}`) }
        : null;
  const body = `${noteMarker(REQUEST_NOTE, nextState)}\n${render(
    'request',
    requestModel({ issue, request, qualification, assignment, state, lifecycle, override, duplicates, history, config }),
  )}`;
  upsertNote(plan, existing, REQUEST_NOTE, body);
  if (notifyNote) plan.notes.push(notifyNote);

  plan.summary.unshift(`${request.form.id} v${request.form.version}: ${state ?? 'no state'}; ${request.problems.length} problem(s); ${qualification.status}, priority ${qualification.priority}`);
  plan.engagement = {
    iid: issue.iid,
    open: true,
    state,
    assignee: assignee ?? issue.assignees[0] ?? null,
    accountKey: key,
    rotation: assignNow && routing!.strategy === 'round-robin' && routing!.pool ? { pool: routing!.pool, username: assignee } : null,
  } satisfies EngagementRecord;
  return plan;
}

function decideNonRequest(plan: Plan, issue: IssueSnapshot, config: Config, render: RenderNote): Plan {
  if (config.intake.nonRequest === 'ignore') {
    plan.summary.push('not made from a request template: ignored (intake.nonRequest = ignore)');
    return plan;
  }
  const label = `${config.labels.engagement}::not-a-request`;
  if (!issue.labels.some((l) => same(l, label))) plan.labels.add.push(label);
  // Explained once: the note is never rewritten, so a person can reply to it in peace.
  if (!findNote(issue.botNotes, NOT_A_REQUEST_NOTE)) {
    plan.notes.push({
      action: 'create',
      key: NOT_A_REQUEST_NOTE,
      body: `${noteMarker(NOT_A_REQUEST_NOTE)}\n${render('not-a-request', {
        author: issue.author,
        templates: config.forms.map((f) => ({ title: neutralizeInline(f.title), file: `scale_engagement_request_${f.id}` })),
      })}`,
    });
  }
  plan.summary.push('not made from a request template: labelled and explained once');
  return plan;
}

function findNote(notes: BotNote[], key: string): BotNote | undefined {
  // The oldest note with the key is the one the bot keeps; later copies (a crash mid-write) are ignored.
  return notes.filter((n) => n.key === key).sort((a, b) => a.id - b.id)[0];
}

function upsertNote(plan: Plan, existing: BotNote | undefined, key: string, body: string): void {
  if (!existing) plan.notes.push({ action: 'create', key, body });
  else if (existing.body.trimEnd() !== body.trimEnd()) plan.notes.push({ action: 'update', key, noteId: existing.id, body });
}

function currentState(labels: string[], config: Config): string | null {
  const prefix = `${config.labels.engagement}::`.toLowerCase();
  const found = labels.find((l) => l.toLowerCase().startsWith(prefix));
  return found ? found.slice(prefix.length) : null;
}

function diffLabels(plan: Plan, current: string[], want: Set<string>, isManaged: (l: string) => boolean): void {
  const have = new Set(current.map((l) => l.toLowerCase()));
  for (const l of want) if (!have.has(l.toLowerCase())) plan.labels.add.push(l);
  const wanted = new Set([...want].map((l) => l.toLowerCase()));
  for (const l of current) if (isManaged(l) && !wanted.has(l.toLowerCase())) plan.labels.remove.push(l);
}

interface RelatedRequest {
  iid: number;
  title: string;
  url: string;
  state: 'opened' | 'closed';
  createdAt: string;
  labels: string[];
}

function relatedRequests(
  related: RelatedIssue[],
  issue: IssueSnapshot,
  key: string | null,
  config: Config,
  now: Date,
): { duplicates: RelatedRequest[]; history: RelatedRequest[] } {
  if (key === null) return { duplicates: [], history: [] };
  const since = subMonths(now, config.intake.historyMonths).toISOString();
  const duplicates: RelatedRequest[] = [];
  const history: RelatedRequest[] = [];
  for (const other of related) {
    if (other.iid === issue.iid) continue;
    const parsed = parse(other.description, config.catalog, { labels: other.labels });
    if (!parsed.form || accountKey(parsed, config) !== key) continue;
    const entry = { iid: other.iid, title: other.title, url: other.webUrl, state: other.state, createdAt: other.createdAt, labels: other.labels };
    if (other.state === 'opened') duplicates.push(entry);
    if (other.createdAt >= since && other.createdAt <= issue.createdAt) history.push(entry);
  }
  const byIid = (a: RelatedRequest, b: RelatedRequest) => a.iid - b.iid;
  return { duplicates: duplicates.sort(byIid), history: history.sort(byIid) };
}

interface AssignmentView {
  assignee: string | null;
  /** Mention the assignee (only in the note that tells them). */
  mention: boolean;
  reason: string;
  skipped: string[];
}

const MARK = { pass: '✅', fail: '❌', unknown: '❔' } as const;

function requestModel(args: {
  issue: IssueSnapshot;
  request: ParsedRequest;
  qualification: Qualification;
  assignment: AssignmentView | null;
  state: string | null;
  lifecycle: boolean;
  override: boolean;
  duplicates: RelatedRequest[];
  history: RelatedRequest[];
  config: Config;
}): object {
  const { issue, request, qualification: q, assignment, config } = args;
  const customer = request.fields[config.fieldMap.customer];
  const link = (r: RelatedRequest) => ({
    // Links by URL, not `#iid`: a reference in the bot's note would cross-post into the other issue.
    text: `${neutralizeInline(r.title)} (${r.state === 'opened' ? 'open' : 'closed'}, ${r.createdAt.slice(0, 10)})`,
    url: r.url,
  });
  return {
    author: issue.author,
    form: neutralizeInline(request.form!.title),
    customer: typeof customer === 'string' ? neutralizeInline(customer) : null,
    state: args.state,
    lifecycle: args.lifecycle,
    needsInfo: args.state === 'needs-info',
    notQualified: args.state === 'not-qualified',
    override: args.override && q.status === 'not-qualified',
    problems: request.problems.map((p) => ({ label: neutralizeInline(p.label ?? 'Description'), message: neutralizeInline(p.message) })),
    status: q.status,
    priority: q.priority,
    flags: q.flags,
    reasons: q.reasons.map(neutralizeInline),
    rules: q.rules.map((r) => ({
      mark: MARK[r.verdict],
      kind: r.kind,
      title: neutralizeCell(r.title),
      threshold: neutralizeCell(r.threshold),
      input: neutralizeCell(r.input ?? '—') || '—',
      detail: neutralizeCell(r.detail),
    })),
    assignment: assignment
      ? { assignee: assignment.assignee, mention: assignment.mention, reason: neutralizeInline(assignment.reason), skipped: assignment.skipped.map(neutralizeInline) }
      : null,
    duplicates: args.duplicates.map(link),
    history: args.history.map(link),
    limit: config.intake.engagementLimit,
    historyMonths: config.intake.historyMonths,
    limitReached: args.state === 'limit-reached',
    overrideLabel: config.labels.override,
  };
}

function assignedModel(assignee: string, request: ParsedRequest, config: Config, routing: RouteDecision): object {
  const customer = request.fields[config.fieldMap.customer];
  return {
    assignee,
    customer: typeof customer === 'string' ? neutralizeInline(customer) : 'this customer',
    reason: neutralizeInline(routing.reason),
  };
}
