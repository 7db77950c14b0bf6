import { assess, type Assessment, type FormRequest } from './assess.js';
import {
  assignmentRecord,
  intakeRouting,
  ownership,
  planAssignees,
  type Assigned,
  type AssignmentRecord,
} from './assignment.js';
import { noteMarker } from './bot-note-marker.js';
import { laterCopies, noteOnce, upsertNote } from './bot-notes.js';
import { CHECKLIST_STATES, tickTimes } from './checklist.js';
import { runCommands, type CommandsOutcome } from './commands.js';
import type { Config } from './config.js';
import { ctaRecord, customerName } from './cta.js';
import { scopedValue } from './label-scope.js';
import { needsLabelHistory, type LifecycleOutcome } from './lifecycle.js';
import { neutralizeInline } from './markdown-safety.js';
import type { EngagementRecord, Plan } from './plan.js';
import type { ParsedRequest } from './request.js';
import { planLabels } from './request-labels.js';
import {
  assignedModel,
  assignedNoteKey,
  NOT_A_REQUEST_NOTE,
  REQUEST_NOTE,
  requestModel,
  requestNote,
  type RequestNoteState,
} from './request-note.js';
import type { RouteDecision, Workload } from './route.js';
import { sameName } from './same-name.js';
import { isPlainIssue, type IssueSnapshot, type RelatedIssue } from './snapshot.js';
import { fitText, NOTE_MAX_CHARS } from './text-limits.js';
import { CLOSED_STATES, type State } from './workflow.js';

/**
 * The one decision function: from a snapshot of an issue (and what else the bot knows) to the
 * plan that brings the issue where it should be. Pure: time, config, GitLab data and the note
 * renderer are parameters, so the webhook worker, reconcile, replay and dry runs all agree.
 */

export interface DecideInput {
  issue: IssueSnapshot;
  /** The issue's description as the pass read it, once (`readRequest`). */
  request: ParsedRequest;
  /** The bot's username: its own label changes need no permission check. */
  botUsername: string;
  /**
   * Set when a CRM sink is configured: whether to ask for the CTA record to be sent, and the id the
   * CRM gave it in this pass (so the note can record it).
   */
  crm?: { enabled: boolean; recordId?: string };
  /** Other issues GitLab found for the same account (any state); this issue may be among them. */
  related: RelatedIssue[];
  workload: Workload;
}

/** The templates a plan's notes are rendered from (`templates/notes/<name>.md.hbs`). */
export type NoteTemplate = 'request' | 'assigned' | 'not-a-request';
export type RenderNote = (template: NoteTemplate, model: object) => string;

/**
 * `render` null: the plan without its notes (`simulate` compares decisions only; building a request
 * note's model is a third of the cost of deciding).
 */
export function decide(input: DecideInput, config: Config, now: Date, render: RenderNote | null): Plan {
  const plan = decideIssue(input, config, now, render);
  if (input.issue.movedTo === undefined) plan.deleteNotes = laterCopies(input.issue.botNotes);
  // Every note within GitLab's limit, whatever people wrote (see `fitText`).
  plan.notes = plan.notes.map((n) => ({ ...n, body: fitText(n.body, NOTE_MAX_CHARS) }));
  return plan;
}

/**
 * Whether deciding this issue needs its label history: someone else moved the state, or closed
 * the issue. It costs a call, so a snapshot loads it only then.
 */
export function needsLabelEvents(issue: Pick<IssueSnapshot, 'labels' | 'state' | 'botNotes'>, config: Config): boolean {
  const labelState = scopedValue(issue.labels, config.labels.engagement);
  return needsLabelHistory(labelState, requestNote(issue.botNotes).memory, issue.state);
}

/** The pipeline: skip reasons → assess → commands → assign → labels → notes → engagement. */
function decideIssue(input: DecideInput, config: Config, now: Date, render: RenderNote | null): Plan {
  const { issue, request } = input;
  const plan = emptyPlan(issue.iid);
  const skip = skipReason(issue, config);
  if (skip !== null) {
    plan.summary.push(skip);
    return plan;
  }
  if (!isFormRequest(request)) return issue.state === 'closed' ? plan : decideNonRequest(plan, issue, config, render);
  const a = assess({ ...input, request }, config, now);
  const own = ownership(a);
  const routing = intakeRouting(a, own);
  const run = runCommands(a, intakeState(a, routing), routing);
  const life = withCtaId(run.life, input.crm?.recordId);
  plan.stateEvent = life.stateEvent;
  plan.summary.push(...life.summary);
  const flags = planLabels(plan, a, life.state);
  const assigned = planAssignees(plan, a, run.routing);
  if (render) planNotes(plan, a, run, life, assignmentRecord(a, own, run.routing, assigned), render);
  if (input.crm?.enabled) planCrm(plan, a, life);
  recordEngagement(plan, a, { life, routing: run.routing, assigned, flags });
  return plan;
}

function emptyPlan(iid: number): Plan {
  return {
    iid,
    labels: { add: [], remove: [] },
    assignees: null,
    stateEvent: null,
    notes: [],
    deleteNotes: [],
    summary: [],
    engagement: null,
    followUps: [],
    crm: null,
  };
}

/** Why the bot leaves this issue alone, or null when it decides it. */
function skipReason(issue: IssueSnapshot, config: Config): string | null {
  // The bot's own issues (reports, reminders) are not requests, whatever people do to them.
  if (issue.labels.some((l) => sameName(l, config.labels.operations)))
    return `carries ${config.labels.operations}: one of the bot's own issues, left alone`;
  // Tasks (and incidents, test cases) share the issues API; only issues are requests.
  if (issue.issueType && !isPlainIssue(issue.issueType)) {
    const kind = issue.issueType.replace(/_/g, ' ');
    return `${/^[aeiou]/i.test(kind) ? 'an' : 'a'} ${kind}, not an issue: left alone`;
  }
  // Moved to another project: the request lives on there, out of the bot's reach.
  if (issue.movedTo !== undefined) return `moved to another project (issue id ${issue.movedTo}): left alone`;
  if (issue.state === 'closed' && !requestNote(issue.botNotes).note)
    return 'closed, and never handled as a request: nothing to do';
  return null;
}

const isFormRequest = (request: ParsedRequest): request is FormRequest => request.form !== null;

function decideNonRequest(plan: Plan, issue: IssueSnapshot, config: Config, render: RenderNote | null): Plan {
  if (config.intake.nonRequest === 'ignore') {
    plan.summary.push('not made from a request template: ignored (intake.nonRequest = ignore)');
    return plan;
  }
  const label = `${config.labels.engagement}::not-a-request`;
  if (!issue.labels.some((l) => sameName(l, label))) plan.labels.add.push(label);
  // Explained once: the note is never rewritten, so a person can reply to it in peace.
  const note =
    render &&
    noteOnce(issue.botNotes, NOT_A_REQUEST_NOTE, () =>
      render('not-a-request', {
        author: issue.author,
        templates: config.forms.map((f) => ({
          title: neutralizeInline(f.title),
          file: `scale_engagement_request_${f.id}`,
        })),
      }),
    );
  if (note) plan.notes.push(note);
  plan.summary.push('not made from a request template: labelled and explained once');
  return plan;
}

/** The state intake decides from the request's content (the lifecycle takes over from acceptance). */
function intakeState(a: Assessment, routing: RouteDecision | null): State {
  if (a.notQualified) return 'not-qualified';
  if (a.needsInfo) return 'needs-info';
  if (!routing?.assignee) return 'new';
  return a.limitReached ? 'limit-reached' : 'assigned';
}

/** The CRM's id for the CTA record, remembered once the CRM has given it. */
function withCtaId(life: LifecycleOutcome, recordId: string | undefined): LifecycleOutcome {
  return recordId && !life.memory.ctaId ? { ...life, memory: { ...life.memory, ctaId: recordId } } : life;
}

/** Notes: one request note kept current; a person learns of their assignment exactly once. */
function planNotes(
  plan: Plan,
  a: Assessment,
  run: CommandsOutcome,
  life: LifecycleOutcome,
  assignment: AssignmentRecord,
  render: RenderNote,
): void {
  const { issue, request, config } = a;
  const memory: RequestNoteState = {
    ...life.memory,
    ...assignment.memory,
    ...tickTimes(run.tickedAt, run.ticked, a.now),
    digest: a.digest,
    asOf: a.asOf,
  };
  const model = requestModel({
    ...a,
    assignment: assignment.view,
    state: life.state,
    ctaId: life.memory.ctaId,
    timeline: life.memory.timeline ?? [],
    ticked: run.ticked,
    closed: life.memory.closed === true,
  });
  upsertNote(plan, a.note, REQUEST_NOTE, `${noteMarker(REQUEST_NOTE, memory)}\n${render('request', model)}`);
  const tell = assignment.tell;
  const notify =
    tell === null
      ? null
      : noteOnce(issue.botNotes, assignedNoteKey(tell), () =>
          render('assigned', assignedModel(tell, request, config, run.routing?.reason ?? 'the covering CSE')),
        );
  if (notify) plan.notes.push(notify);
  plan.notes.push(...run.replies);
  for (const n of run.lifeNotes) {
    const note = noteOnce(issue.botNotes, n.key, n.to ? `@${n.to}, ${n.text}` : n.text, { internal: n.internal });
    if (note) plan.notes.push(note);
  }
}

/** The CTA record goes to the CRM once, from acceptance on. */
function planCrm(plan: Plan, { issue, request, config, qualification }: Assessment, life: LifecycleOutcome): void {
  if (life.memory.ctaId || !CHECKLIST_STATES.includes(life.state)) return;
  plan.crm = {
    idempotencyKey: `scale-bot-cta-${issue.webUrl}`,
    record: ctaRecord(customerName(request, config, 'Unknown customer'), qualification.priority, issue.webUrl),
  };
}

/** What was decided, for logs and `simulate`, and what the engagement index remembers of it. */
function recordEngagement(
  plan: Plan,
  { issue, request, qualification, account }: Assessment,
  {
    life,
    routing,
    assigned,
    flags,
  }: { life: LifecycleOutcome; routing: RouteDecision | null; assigned: Assigned; flags: string[] },
): void {
  const { state } = life;
  const assignee = assigned.assignee ?? issue.assignees[0] ?? null;
  plan.decision = {
    form: { id: request.form.id, version: request.form.version },
    versionKnown: !request.problems.some((p) => p.code === 'form-version-unknown'),
    state,
    qualification: qualification.status,
    reasons: qualification.reasons,
    priority: qualification.priority,
    flags,
    assignee,
    pool: routing?.pool ?? null,
    strategy: routing?.strategy ?? null,
    problems: request.problems.map((p) => p.message),
  };
  plan.summary.unshift(
    `${request.form.id} v${request.form.version}: ${state}; ${request.problems.length} problem(s); ${qualification.status}, priority ${qualification.priority}`,
  );
  plan.engagement = {
    iid: issue.iid,
    open: !CLOSED_STATES.includes(state) && plan.stateEvent !== 'close' && issue.state === 'opened',
    state,
    assignee,
    accountKey: account,
    rotation:
      assigned.assignNow && routing!.strategy === 'round-robin' && routing!.pool
        ? { pool: routing!.pool, username: assigned.assignee! }
        : null,
  } satisfies EngagementRecord;
}
