import type { NoteState } from './bot-note-marker.js';
import { findNote } from './bot-notes.js';
import { CHECKLIST, CHECKLIST_STATES } from './checklist.js';
import type { Config } from './config.js';
import { ctaRecord, CTA_FIELDS, customerName } from './cta.js';
import type { LifecycleMemory } from './lifecycle.js';
import { neutralizeCell, neutralizeInline, type EchoOptions } from './markdown-safety.js';
import { formatUsd, type Qualification } from './qualify.js';
import type { RelatedRequest } from './related-requests.js';
import type { DetectedForm, ParsedRequest } from './request.js';
import type { BotNote, IssueSnapshot } from './snapshot.js';

/**
 * The request note: the one note the bot keeps current on a request (what it read, how it judged,
 * who has it, the tracker), and the memory it carries in its hidden marker between passes.
 */

export const REQUEST_NOTE = 'request';
export const NOT_A_REQUEST_NOTE = 'not-a-request';
/** The note that tells a person of their assignment (once). */
export const assignedNoteKey = (username: string) => `assigned-${username.toLowerCase()}`;

export interface RequestNoteState extends NoteState, LifecycleMemory {
  /** Whom the bot assigned; a different assignee means a person chose. */
  assigned?: string;
  /** Why, as decided at the time: kept so the note reads the same on every later pass. */
  reason?: string;
  /** Who routing passed over at the time, and why (likewise kept). */
  skipped?: string[];
  /** Whom this note itself mentions (the assignee told on the note's creation). */
  mentioned?: string;
  /** Whom the bot has told about their assignment (each exactly once). */
  notified?: string[];
  /** The description's digest when it was last judged, and that day (see `asOf` in decide). */
  digest?: string;
  asOf?: string;
  /** When each checklist item was first seen ticked: the follow-up reminder counts from "Call held". */
  ticks?: Record<string, string>;
}

/** The request note as it stands (the oldest with its key), and what it remembers. */
export function requestNote(botNotes: readonly BotNote[]): { note: BotNote | undefined; memory: RequestNoteState } {
  const note = findNote(botNotes, REQUEST_NOTE);
  return { note, memory: (note?.state ?? {}) as RequestNoteState };
}

export interface AssignmentView {
  assignee: string | null;
  /** Mention the assignee (only in the note that tells them). */
  mention: boolean;
  reason: string;
  skipped: string[];
}

/** What the request note shows, as decided in this pass. */
export interface RequestNoteFacts {
  issue: IssueSnapshot;
  request: ParsedRequest & { form: DetectedForm };
  qualification: Qualification;
  assignment: AssignmentView | null;
  state: string | null;
  lifecycle: boolean;
  override: boolean;
  duplicates: RelatedRequest[];
  history: RelatedRequest[];
  config: Config;
  ctaId: string | undefined;
  timeline: ReadonlyArray<{ state: string; at: string; by: string }>;
  ticked: ReadonlySet<string>;
  /** The issue is closed, or this pass closes it. */
  closed: boolean;
  botUsername: string;
}

const MARK = { pass: '✅', fail: '❌', unknown: '❔' } as const;

/** Related requests listed by name in the note; the rest are counted, so the note stays short. */
const RELATED_SHOWN = 100;

/** The model `templates/notes/request.md.hbs` renders. Every echo of people's text is made inert. */
export function requestModel(facts: RequestNoteFacts): object {
  const engaged = facts.state !== null && !['new', 'needs-info', 'not-qualified'].includes(facts.state);
  return {
    ...headlineModel(facts),
    ...qualificationModel(facts.qualification),
    assignment: assignmentModel(facts.assignment),
    ...relatedModel(facts),
    tracker: engaged ? trackerModel(facts) : null,
  };
}

function headlineModel({ issue, request, config, state, lifecycle, override, qualification }: RequestNoteFacts) {
  const customer = request.fields[config.fieldMap.customer];
  const echo = echoLimit(request, config.fieldMap.customer, config);
  return {
    author: issue.author,
    form: neutralizeInline(request.form.title),
    customer: typeof customer === 'string' ? neutralizeInline(customer, echo) : null,
    customerCell: typeof customer === 'string' ? neutralizeCell(customer, echo) || null : null,
    state,
    lifecycle,
    needsInfo: state === 'needs-info',
    notQualified: state === 'not-qualified',
    override: override && qualification.status === 'not-qualified',
    problems: request.problems.map((p) => ({
      label: neutralizeInline(p.label ?? 'Description'),
      message: neutralizeInline(p.message),
    })),
  };
}

function qualificationModel(q: Qualification) {
  return {
    status: q.status,
    priority: q.priority,
    flags: q.flags,
    reasons: q.reasons.map((r) => neutralizeInline(r)),
    rules: q.rules.map((r) => ({
      mark: MARK[r.verdict],
      kind: r.kind,
      title: neutralizeCell(r.title),
      threshold: neutralizeCell(r.threshold),
      input: neutralizeCell(r.input ?? '—') || '—',
      detail: neutralizeCell(r.detail),
    })),
  };
}

function assignmentModel(assignment: AssignmentView | null) {
  return assignment
    ? {
        assignee: assignment.assignee,
        mention: assignment.mention,
        reason: neutralizeInline(assignment.reason),
        skipped: assignment.skipped.map((x) => neutralizeInline(x)),
      }
    : null;
}

function relatedModel({ duplicates, history, config, state }: RequestNoteFacts) {
  const link = (r: RelatedRequest) => ({
    // Links by URL, not `#iid`: a reference in the bot's note would cross-post into the other issue.
    text: `${neutralizeInline(r.title)} (${r.state === 'opened' ? 'open' : 'closed'}, ${r.createdAt.slice(0, 10)})`,
    url: r.url,
  });
  return {
    duplicates: duplicates.slice(0, RELATED_SHOWN).map(link),
    moreDuplicates: Math.max(0, duplicates.length - RELATED_SHOWN),
    history: history.slice(0, RELATED_SHOWN).map(link),
    historyCount: history.length,
    moreHistory: Math.max(0, history.length - RELATED_SHOWN),
    limit: config.intake.engagementLimit,
    historyMonths: config.intake.historyMonths,
    limitReached: state === 'limit-reached',
    overrideLabel: config.labels.override,
  };
}

function trackerModel(facts: RequestNoteFacts) {
  const { issue, request, config } = facts;
  const arr = request.fields[config.fieldMap.arr];
  const renewal = request.fields[config.fieldMap.renewalDate];
  // A request closed by hand keeps its CTA and checklist in view (what was missing).
  const withCta = facts.state !== null && [...CHECKLIST_STATES, 'closed-incomplete'].includes(facts.state);
  const minute = (at: string) => at.slice(0, 16).replace('T', ' ');
  return {
    segment: `${request.form.segment}/${request.form.region}`,
    arr: typeof arr === 'number' ? formatUsd(arr) : '—',
    renewal: typeof renewal === 'string' ? renewal : '—',
    nextStep: nextStep(facts.state, facts.closed, facts.botUsername),
    closed: facts.closed,
    timeline: [
      { state: 'opened', at: minute(issue.createdAt), by: issue.author },
      ...facts.timeline.map((t) => ({ state: t.state, at: minute(t.at), by: t.by })),
    ],
    cta: withCta ? ctaModel(facts) : null,
    checklist: withCta ? CHECKLIST.map((item) => ({ item, done: facts.ticked.has(item) })) : null,
  };
}

function ctaModel({ issue, request, config, qualification, ctaId }: RequestNoteFacts) {
  const record = ctaRecord(customerName(request, config, 'the customer'), qualification.priority, issue.webUrl);
  return [
    ...Object.entries(CTA_FIELDS).map(([field, key]) => [field, record[key]!]),
    ...(ctaId ? [['CRM record', ctaId]] : []),
  ].map(([field, value]) => ({ field, value: neutralizeCell(value!) }));
}

/**
 * What has to happen next, true in the state the note shows: an open request says who does what;
 * a closed one says that nothing is left (reopening the issue is the way back).
 */
function nextStep(state: string | null, closed: boolean, bot: string): string {
  const done = `\`@${bot} done <item>\``;
  if (closed) {
    const why: Record<string, string> = {
      completed: 'the engagement is complete and the request closed',
      declined: 'the request was declined and closed; the author has the reason',
      withdrawn: 'the request was withdrawn and closed',
      'closed-incomplete': 'the request was closed before completion',
    };
    return `None: ${why[state ?? ''] ?? 'the request is closed'}. Reopen the issue to take it up again.`;
  }
  const open: Record<string, string> = {
    assigned: 'The assigned CSE accepts (label `engagement::accepted`) or declines the request.',
    'limit-reached': 'The account is at its engagement limit: the CSE decides to accept or decline.',
    accepted: `Create the CTA, hold the call, log it and send the follow-up email; tick each item below (or comment ${done}). Label \`engagement::scheduled\` once the call is booked.`,
    scheduled: `Hold the call, log it and send the follow-up email; tick each item below (or comment ${done}), then label \`engagement::completed\`.`,
    completed: `Tick the items still open below (or comment ${done}); the bot then closes the request.`,
    declined:
      'The CSE who declined replies with the reason; the bot passes it on to the author and closes the request.',
  };
  return open[state ?? ''] ?? '';
}

/** How much of a field's value a note echoes: the field's own `maxLength`, when the form sets one. */
function echoLimit(request: ParsedRequest, fieldId: string, config: Config): EchoOptions {
  const form = config.catalog.forms.find((f) => f.id === request.form?.id);
  const field = form?.versions.find((v) => v.version === request.form?.version)?.fields.find((f) => f.id === fieldId);
  const max = field?.validations.maxLength;
  return max === undefined ? {} : { max };
}

/** The model `templates/notes/assigned.md.hbs` renders: the assignee learns of the request. */
export function assignedModel(assignee: string, request: ParsedRequest, config: Config, reason: string): object {
  const customer = request.fields[config.fieldMap.customer];
  return {
    assignee,
    customer:
      typeof customer === 'string'
        ? neutralizeInline(customer, echoLimit(request, config.fieldMap.customer, config))
        : 'this customer',
    reason: neutralizeInline(reason),
  };
}
