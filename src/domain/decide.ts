import { subMonths } from 'date-fns';
import { accountKey } from './account.js';
import type { Config } from './config.js';
import { markerKey, noteMarker, type NoteState } from './bot-note-marker.js';
import { fitText, NOTE_MAX_CHARS } from './text-limits.js';
import { neutralizeCell, neutralizeInline, type EchoOptions } from './markdown-safety.js';
import { parse } from './parse.js';
import type { EngagementRecord, NoteWrite, Plan } from './plan.js';
import { formatUsd, qualify, type Qualification } from './qualify.js';
import type { ParsedRequest } from './request.js';
import { route, type RouteDecision, type Workload } from './route.js';
import { isPlainIssue, type BotNote, type IssueSnapshot, type RelatedIssue } from './snapshot.js';
import { COMMAND_HELP, findCommands, STATE_COMMANDS, type Command } from './commands.js';
import { CHECKLIST_COMMANDS, CHECKLIST_HELP, runChecklistCommands } from './checklist-commands.js';
import { CHECKLIST, CHECKLIST_STATES, decideLifecycle, tickedItems, type LifecycleMemory } from './lifecycle.js';
import { readDate, readUser } from './values.js';
import { actorRoles, checkTransition, CLOSED_STATES, INTAKE_STATES, type State } from './workflow.js';
import { sameName } from './same-name.js';
import { labelScope } from './label-scope.js';
import { textDigest } from './text-digest.js';

/**
 * The one decision function: from a snapshot of an issue (and what else the bot knows) to the
 * plan that brings the issue where it should be. Pure: time, config, GitLab data and the note
 * renderer are parameters, so the webhook worker, reconcile, replay and dry runs all agree.
 */

export interface DecideInput {
  issue: IssueSnapshot;
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

/** States intake may replace; any other `engagement::` state belongs to the lifecycle and is kept. */
const BOT_OWNED_STATES: readonly string[] = [...INTAKE_STATES, 'not-a-request'];

export const REQUEST_NOTE = 'request';
export const NOT_A_REQUEST_NOTE = 'not-a-request';
const assignedNoteKey = (username: string) => `assigned-${username.toLowerCase()}`;

interface RequestNoteState extends NoteState, LifecycleMemory {
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

export function decide(input: DecideInput, config: Config, now: Date, render: RenderNote): Plan {
  const plan = decideIssue(input, config, now, render);
  if (input.issue.movedTo === undefined) plan.deleteNotes = laterCopies(input.issue.botNotes);
  // Every note within GitLab's limit, whatever people wrote (see `fitText`).
  plan.notes = plan.notes.map((n) => ({ ...n, body: fitText(n.body, NOTE_MAX_CHARS) }));
  return plan;
}

/**
 * Two passes over one issue at once (the sweep in CI beside the service) can each create the same
 * note. The oldest is the one the bot keeps (see `findNote`); the later copies are deleted, so no
 * stale copy stays behind.
 */
function laterCopies(notes: BotNote[]): Plan['deleteNotes'] {
  const kept = new Map<string, number>();
  for (const n of notes) kept.set(n.key, Math.min(kept.get(n.key) ?? n.id, n.id));
  return notes.filter((n) => kept.get(n.key) !== n.id).map((n) => ({ key: n.key, noteId: n.id }));
}

function decideIssue(input: DecideInput, config: Config, now: Date, render: RenderNote): Plan {
  const { issue } = input;
  const plan: Plan = {
    iid: issue.iid,
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
  // The bot's own issues (reports, reminders) are not requests, whatever people do to them.
  if (issue.labels.some((l) => sameName(l, config.labels.operations))) {
    plan.summary.push(`carries ${config.labels.operations}: one of the bot's own issues, left alone`);
    return plan;
  }
  // Tasks (and incidents, test cases) share the issues API; only issues are requests.
  if (issue.issueType && !isPlainIssue(issue.issueType)) {
    const kind = issue.issueType.replace(/_/g, ' ');
    plan.summary.push(`${/^[aeiou]/i.test(kind) ? 'an' : 'a'} ${kind}, not an issue: left alone`);
    return plan;
  }
  // Moved to another project: the request lives on there, out of the bot's reach.
  if (issue.movedTo !== undefined) {
    plan.summary.push(`moved to another project (issue id ${issue.movedTo}): left alone`);
    return plan;
  }
  const existingRequestNote = findNote(issue.botNotes, REQUEST_NOTE);
  if (issue.state === 'closed' && !existingRequestNote) {
    plan.summary.push('closed, and never handled as a request: nothing to do');
    return plan;
  }
  const today = now.toISOString().slice(0, 10);
  const request = parse(issue.description, config.catalog, { labels: issue.labels });
  if (!request.form) return issue.state === 'closed' ? plan : decideNonRequest(plan, issue, config, render);

  const noteState = (existingRequestNote?.state ?? {}) as RequestNoteState;
  // Date-relative rules ("renewal within 3 months") are judged as of the day the description was
  // last read: an unchanged request reads the same tomorrow, so a later pass writes nothing.
  const digest = textDigest(issue.description);
  const asOf = noteState.digest === digest && noteState.asOf ? noteState.asOf : today;
  const qualification = qualify(request, issue.author, config, asOf);
  const key = accountKey(request, config);
  const { duplicates, history } = relatedRequests(input.related, issue, key, config, now);
  const labels = config.labels;
  const stateLabel = (s: string) => `${labels.engagement}::${s}`;
  const current = currentState(issue.labels, config);
  // Past intake (accepted and later, or closed), people drive the state: intake keeps its hands off.
  const lifecycle =
    issue.state === 'closed' ||
    (noteState.state !== undefined && !INTAKE_STATES.includes(noteState.state)) ||
    (current !== null && !BOT_OWNED_STATES.includes(current));
  const override = issue.labels.some((l) => sameName(l, labels.override));
  const notQualified = qualification.status === 'not-qualified' && !override;
  const needsInfo = request.problems.length > 0 || qualification.status === 'incomplete';
  const limitReached = history.length >= config.intake.engagementLimit;

  // Assignment: a person's choice is kept; the bot's own choice is sticky; otherwise route.
  let routing: RouteDecision | null = null;
  // Who chose the current assignee: the bot's own record, else GitLab's "assigned to" system note.
  const botChose = (u: string) =>
    sameName(noteState.assigned, u) || sameName(issue.assignedBy[u.toLowerCase()], input.botUsername);
  const soleAssignee = issue.assignees.length === 1 ? issue.assignees[0]! : undefined;
  // The issue is the truth: when the bot chose the sole assignee, that is whom it assigned, even
  // if its note remembers another (two passes at once, each routing with its own view of the load).
  const botAssigned = soleAssignee && botChose(soleAssignee) ? soleAssignee : noteState.assigned;
  const remembered = sameName(noteState.assigned, botAssigned);
  const byHuman = issue.assignees.length > 0 && !(soleAssignee && botChose(soleAssignee));
  if (!lifecycle && !notQualified && !needsInfo) {
    if (byHuman) {
      routing = route(request, config, input.workload, today, { assignees: issue.assignees, byHuman: true });
    } else if (botAssigned && issue.assignees.length === 1) {
      routing = {
        assignee: issue.assignees[0]!,
        via: 'kept',
        pool: null,
        strategy: null,
        reason: `kept the earlier assignment of ${botAssigned}`,
        skipped: [],
      };
    } else {
      routing = route(request, config, input.workload, today);
    }
  }

  const intakeState: State = notQualified
    ? 'not-qualified'
    : needsInfo
      ? 'needs-info'
      : routing?.assignee
        ? limitReached
          ? 'limit-reached'
          : 'assigned'
        : 'new';
  const form = request.form;
  const rolesOf = (username: string) =>
    actorRoles(
      {
        username,
        isBot: false,
        isAuthor: sameName(username, issue.author),
        isAssignee: issue.assignees.some((a) => sameName(a, username)),
      },
      config,
      form.segment,
      form.region,
    );
  // Commands in comments move the request like a label would, as the person who wrote them.
  const commands = findCommands(issue.humanNotes, input.botUsername, noteState.lastNote ?? 0);
  const noteInput = {
    issue,
    memory: noteState as LifecycleMemory,
    intakeState,
    labelState: current,
    ticked: tickedItems(existingRequestNote?.body ?? ''),
    config,
    botUsername: input.botUsername,
    segment: request.form.segment,
    region: request.form.region,
    now,
  };
  // `done`/`undo` first, so the lifecycle judges the checklist as the commands leave it.
  const checklist = runChecklistCommands(commands, {
    ticked: noteInput.ticked,
    tickedAt: noteState.ticks ?? {},
    state: () => decideLifecycle(noteInput).state,
    closed: issue.state === 'closed',
    rolesOf,
  });
  const ticked = checklist.ticked;
  const lifeInput = { ...noteInput, ticked };
  let life = decideLifecycle(lifeInput);
  const lifeNotes = [...life.notes];
  const replies: NoteWrite[] = [];
  const reassignTarget = (
    argument: string,
    roles: readonly string[],
    now: State,
  ): { username: string } | { refusal: string } => {
    if (!roles.includes('manager') && !roles.includes('assigned-cse'))
      return { refusal: 'only the assigned CSE or a manager can hand it on.' };
    if (CLOSED_STATES.includes(now)) return { refusal: `it is \`${now}\`.` };
    const current = issue.assignees[0];
    if (argument !== '') {
      const named = readUser(argument.split(/\s+/)[0]!);
      if ('error' in named) return { refusal: `${neutralizeInline(named.error)}.` };
      const person = config.person(named.value);
      if (!person?.roles.includes('cse'))
        return { refusal: `${neutralizeInline(named.value)} is not a CSE in the bot's people.` };
      if (current && sameName(current, person.username))
        return { refusal: `it is already assigned to ${person.username}.` };
      return { username: person.username };
    }
    // Without a name: the next CSE routing would choose, leaving out the one who hands it on.
    const open = { ...input.workload.open, ...(current ? { [current.toLowerCase()]: Number.MAX_SAFE_INTEGER } : {}) };
    const next = route(request, config, { ...input.workload, open }, today);
    return next.assignee && !(current && sameName(next.assignee, current))
      ? { username: next.assignee }
      : { refusal: 'no other CSE of the pool is available; name one, e.g. `reassign @name`.' };
  };
  const replyTo = (c: Command, text: string) => {
    const key = markerKey(`reply-${c.noteId}`);
    if (!findNote(issue.botNotes, key))
      replies.push({
        action: 'create',
        key,
        body: `${noteMarker(key)}\n@${c.author}, ${text}`,
        ...(c.internal ? { internal: true } : {}),
      });
  };
  for (const r of checklist.replies) replyTo(r.command, r.text);
  for (const c of commands.filter((c) => !(c.name in CHECKLIST_COMMANDS))) {
    const reply = (text: string) => replyTo(c, text);
    const help = `the commands I understand, at the start of a comment after @${input.botUsername}:\n\n${[...COMMAND_HELP, ...CHECKLIST_HELP].map((h) => `- ${h}`).join('\n')}`;
    const target = STATE_COMMANDS[c.name];
    if (c.name === 'help') reply(help);
    // Answered, and marked read: reopening the issue later must not run an old command.
    else if (issue.state === 'closed' && (target || c.name === 'reassign'))
      reply(`I did not ${c.name} this request: it is closed (\`${life.state}\`). Reopen it first.`);
    else if (c.name === 'recheck')
      reply(
        `rechecked: the request is \`${life.state}\`, with ${request.problems.length} problem(s) in its description.`,
      );
    else if (c.name === 'reassign') {
      const roles = rolesOf(c.author);
      const to = reassignTarget(c.argument, roles, life.state);
      if ('refusal' in to) reply(`I did not reassign this request: ${to.refusal}`);
      else {
        routing = {
          assignee: to.username,
          via: 'pool',
          pool: null,
          strategy: null,
          reason: `reassigned by ${c.author}`,
          skipped: [],
        };
        reply(`done: the request is now assigned to ${to.username}.`);
      }
    } else if (target) {
      let when = '';
      if (target === 'scheduled') {
        const date = readDate(c.argument);
        if ('error' in date) {
          reply(
            `give the date of the call, e.g. \`@${input.botUsername} schedule 2027-01-15\` (${neutralizeInline(date.error)}).`,
          );
          continue;
        }
        when = ` (call on ${date.value})`;
      }
      const roles = rolesOf(c.author);
      const check = checkTransition(life.state, target, roles);
      if (!check.allowed) {
        reply(`I did not ${c.name} this request: ${check.reason}. Instead, ${check.instead}.`);
        continue;
      }
      // The command as a label event of its own (a negative id never collides with GitLab's).
      const event = {
        id: -c.noteId,
        user: c.author,
        createdAt: c.at,
        label: `${labels.engagement}::${target}`,
        action: 'add' as const,
      };
      life = decideLifecycle({
        ...lifeInput,
        issue: { ...issue, labelEvents: [...(issue.labelEvents ?? []), event] },
        memory: life.memory,
        labelState: target,
      });
      lifeNotes.push(...life.notes.filter((n) => !lifeNotes.some((m) => m.key === n.key)));
      reply(`done: the request is now \`${target}\`${when}.`);
    } else reply(`I do not know \`${neutralizeInline(c.name)}\`; ${help}`);
  }
  if (commands.length > 0)
    life = {
      ...life,
      memory: { ...life.memory, lastNote: Math.max(noteState.lastNote ?? 0, ...commands.map((c) => c.noteId)) },
    };
  if (input.crm?.recordId && !life.memory.ctaId)
    life = { ...life, memory: { ...life.memory, ctaId: input.crm.recordId } };
  const state: State = life.state;
  plan.stateEvent = life.stateEvent;
  plan.summary.push(...life.summary);

  // Labels: the bot manages its scopes and flags, and leaves every other label alone.
  const want = new Set<string>([
    `${labels.form}::${request.form.id}`,
    config.catalog.segmentLabel(request.form.segment),
    config.catalog.regionLabel(request.form.region),
    `${labels.priority}::${qualification.priority}`,
  ]);
  want.add(stateLabel(state));
  const managedScopes = [labels.form, labels.segment, labels.region, labels.priority].map((s) =>
    `${s}::`.toLowerCase(),
  );
  const managedFlags = [labels.escalationCandidate, labels.atRisk, labels.duplicate].map((l) => l.toLowerCase());
  const isManaged = (l: string) => {
    const lower = l.toLowerCase();
    if (managedFlags.includes(lower) || managedScopes.some((p) => lower.startsWith(p))) return true;
    // One engagement state at a time, the one the workflow decided.
    return lower.startsWith(`${labels.engagement}::`.toLowerCase());
  };
  const flags = [
    qualification.flags.includes('escalation-candidate') ? labels.escalationCandidate : null,
    qualification.flags.includes('at-risk') ? labels.atRisk : null,
    duplicates.length > 0 ? labels.duplicate : null,
  ];
  for (const flag of flags) if (flag !== null) addFlag(plan, want, flag, issue.labels, isManaged);
  plan.followUps = duplicates.filter((d) => !d.labels.some((l) => sameName(l, labels.duplicate))).map((d) => d.iid);
  diffLabels(plan, issue.labels, want, isManaged);

  // Assignees: set only when the bot routes to someone who is not already the assignee.
  const assignee = routing?.assignee ?? null;
  const assignNow = assignee !== null && routing!.via !== 'kept' && !issue.assignees.some((a) => sameName(a, assignee));
  if (assignNow) {
    plan.assignees = [assignee];
    plan.summary.push(`assign ${assignee}: ${routing!.reason}`);
  } else if (routing) plan.summary.push(`assignment: ${routing.reason}`);

  // Notes: one request note kept current; a person learns of their assignment exactly once.
  const existing = findNote(issue.botNotes, REQUEST_NOTE);
  const notified = new Set((noteState.notified ?? []).map((u) => u.toLowerCase()));
  const assignedByBot = assignNow ? assignee : byHuman ? undefined : botAssigned;
  // Whoever the bot assigned learns of it exactly once, also when a crash came between the
  // assignment and the note that tells them.
  const tell =
    assignedByBot !== undefined && assignedByBot !== null && !notified.has(assignedByBot.toLowerCase())
      ? assignedByBot
      : null;
  const mentionInRequestNote = tell !== null && existing === undefined;

  let notifyNote: NoteWrite | null = null;
  if (tell !== null && !mentionInRequestNote) {
    const noteKey = assignedNoteKey(tell);
    if (!findNote(issue.botNotes, noteKey)) {
      notifyNote = {
        action: 'create',
        key: noteKey,
        body: `${noteMarker(noteKey)}\n${render('assigned', assignedModel(tell, request, config, routing?.reason ?? 'the covering CSE'))}`,
      };
    }
  }
  if (tell !== null) notified.add(tell.toLowerCase());
  // Why, as recorded when the bot chose: only for the assignee the note remembers.
  const reason = assignNow ? routing!.reason : assignedByBot && remembered ? noteState.reason : undefined;
  const skipped = assignNow
    ? routing!.skipped.map((x) => `${x.username}: ${x.detail}`)
    : assignedByBot && remembered
      ? (noteState.skipped ?? [])
      : [];
  const mentioned = mentionInRequestNote ? tell : existing ? noteState.mentioned : undefined;
  const nextState: RequestNoteState = {
    ...life.memory,
    ...(assignedByBot ? { assigned: assignedByBot } : {}),
    ...(assignedByBot && reason ? { reason } : {}),
    ...(assignedByBot && skipped.length > 0 ? { skipped } : {}),
    ...(mentioned ? { mentioned } : {}),
    ...(notified.size > 0 ? { notified: [...notified].sort() } : {}),
    ...tickTimes(checklist.tickedAt, ticked, now),
    digest,
    asOf,
  };
  // What the note says about assignment comes from that stable state, so a later pass that merely
  // keeps the assignment renders the very same note (and writes nothing).
  const assignment: AssignmentView | null = byHuman
    ? { assignee: issue.assignees.join(', '), mention: false, reason: 'assigned by a person', skipped: [] }
    : assignedByBot
      ? {
          assignee: assignedByBot,
          mention: sameName(mentioned, assignedByBot),
          reason: reason ?? 'assigned by the bot',
          skipped,
        }
      : routing && !routing.assignee
        ? {
            assignee: null,
            mention: false,
            reason: routing.reason,
            skipped: routing.skipped.map((x) => `${x.username}: ${x.detail}`),
          }
        : null;
  const body = `${noteMarker(REQUEST_NOTE, nextState)}\n${render(
    'request',
    requestModel({
      issue,
      request,
      qualification,
      assignment,
      state,
      lifecycle,
      override,
      duplicates,
      history,
      config,
      ctaId: life.memory.ctaId,
      timeline: life.memory.timeline ?? [],
      ticked,
      closed: life.memory.closed === true,
      botUsername: input.botUsername,
    }),
  )}`;
  upsertNote(plan, existing, REQUEST_NOTE, body);
  if (notifyNote) plan.notes.push(notifyNote);
  plan.notes.push(...replies);
  for (const n of lifeNotes) {
    const key = markerKey(n.key);
    if (findNote(issue.botNotes, key)) continue;
    const text = n.to ? `@${n.to}, ${n.text}` : n.text;
    plan.notes.push({
      action: 'create',
      key,
      body: `${noteMarker(key)}\n${text}`,
      ...(n.internal ? { internal: true } : {}),
    });
  }

  // The CTA record goes to the CRM once, from acceptance on.
  if (input.crm?.enabled && !life.memory.ctaId && ['accepted', 'scheduled', 'completed'].includes(state)) {
    const customer =
      typeof request.fields[config.fieldMap.customer] === 'string'
        ? (request.fields[config.fieldMap.customer] as string)
        : 'Unknown customer';
    plan.crm = {
      idempotencyKey: `scale-bot-cta-${issue.webUrl}`,
      record: ctaRecord(customer, qualification.priority, issue.webUrl),
    };
  }
  plan.decision = {
    form: { id: request.form.id, version: request.form.version },
    versionKnown: !request.problems.some((p) => p.code === 'form-version-unknown'),
    state,
    qualification: qualification.status,
    reasons: qualification.reasons,
    priority: qualification.priority,
    flags: flags.filter((f): f is string => f !== null),
    assignee: assignee ?? issue.assignees[0] ?? null,
    pool: routing?.pool ?? null,
    strategy: routing?.strategy ?? null,
    problems: request.problems.map((p) => p.message),
  };
  plan.summary.unshift(
    `${request.form.id} v${request.form.version}: ${state ?? 'no state'}; ${request.problems.length} problem(s); ${qualification.status}, priority ${qualification.priority}`,
  );
  plan.engagement = {
    iid: issue.iid,
    open: !CLOSED_STATES.includes(state) && plan.stateEvent !== 'close' && issue.state === 'opened',
    state,
    assignee: assignee ?? issue.assignees[0] ?? null,
    accountKey: key,
    rotation:
      assignNow && routing!.strategy === 'round-robin' && routing!.pool
        ? { pool: routing!.pool, username: assignee }
        : null,
  } satisfies EngagementRecord;
  return plan;
}

function decideNonRequest(plan: Plan, issue: IssueSnapshot, config: Config, render: RenderNote): Plan {
  if (config.intake.nonRequest === 'ignore') {
    plan.summary.push('not made from a request template: ignored (intake.nonRequest = ignore)');
    return plan;
  }
  const label = `${config.labels.engagement}::not-a-request`;
  if (!issue.labels.some((l) => sameName(l, label))) plan.labels.add.push(label);
  // Explained once: the note is never rewritten, so a person can reply to it in peace.
  if (!findNote(issue.botNotes, NOT_A_REQUEST_NOTE)) {
    plan.notes.push({
      action: 'create',
      key: NOT_A_REQUEST_NOTE,
      body: `${noteMarker(NOT_A_REQUEST_NOTE)}\n${render('not-a-request', {
        author: issue.author,
        templates: config.forms.map((f) => ({
          title: neutralizeInline(f.title),
          file: `scale_engagement_request_${f.id}`,
        })),
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

function upsertNote(plan: Plan, existing: BotNote | undefined, key: string, note: string): void {
  // Compared as GitLab will hold it, so a note that had to be cut is not written again every pass.
  const body = fitText(note, NOTE_MAX_CHARS);
  if (!existing) plan.notes.push({ action: 'create', key, body });
  else if (existing.body.trimEnd() !== body.trimEnd())
    plan.notes.push({ action: 'update', key, noteId: existing.id, body });
}

function currentState(labels: string[], config: Config): string | null {
  const prefix = `${config.labels.engagement}::`.toLowerCase();
  const found = labels.find((l) => l.toLowerCase().startsWith(prefix));
  return found ? found.slice(prefix.length) : null;
}

/**
 * A flag whose scope already holds a label the bot does not manage (a person's `escalation::approved`
 * beside the bot's `escalation::candidate`) is left off: on GitLab adding it would remove that label,
 * and the bot never fights people, or GitLab's scoped labels, over a scope.
 */
function addFlag(
  plan: Plan,
  want: Set<string>,
  flag: string,
  current: string[],
  isManaged: (l: string) => boolean,
): void {
  const scope = labelScope(flag);
  const holder = scope === null ? undefined : current.find((l) => !isManaged(l) && labelScope(l) === scope);
  if (holder === undefined) want.add(flag);
  else plan.summary.push(`${flag} left off: ${holder} holds its scope`);
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
    if (other.iid === issue.iid || other.account !== key) continue;
    const entry = {
      iid: other.iid,
      title: other.title,
      url: other.webUrl,
      state: other.state,
      createdAt: other.createdAt,
      labels: other.labels,
    };
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

/** The CTA record exactly as the process defines it (DESIGN §1). */
function ctaRecord(customer: string, priority: string, issueUrl: string): Record<string, string> {
  return {
    name: `${customer} - Ad-Hoc Scale CSE Engagement Request`,
    company: customer,
    type: 'Digital Journey',
    reason: 'Other Digital Journey Reason',
    priority,
    playbook: 'One-Off Scale CSM Outreach',
    issueUrl,
  };
}

const CTA_FIELDS: Record<string, string> = {
  Name: 'name',
  Company: 'company',
  Type: 'type',
  Reason: 'reason',
  Priority: 'priority',
  Playbook: 'playbook',
};

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

/** First-seen times of the items ticked now (an unticked item is forgotten). */
function tickTimes(
  known: Record<string, string> | undefined,
  ticked: ReadonlySet<string>,
  now: Date,
): { ticks?: Record<string, string> } {
  if (ticked.size === 0) return {};
  const ticks: Record<string, string> = {};
  for (const item of CHECKLIST) if (ticked.has(item)) ticks[item] = known?.[item] ?? now.toISOString();
  return { ticks };
}

const MARK = { pass: '✅', fail: '❌', unknown: '❔' } as const;

/** Related requests listed by name in the note; the rest are counted, so the note stays short. */
const RELATED_SHOWN = 100;

/** How much of a field's value a note echoes: the field's own `maxLength`, when the form sets one. */
function echoLimit(request: ParsedRequest, fieldId: string, config: Config): EchoOptions {
  const form = config.catalog.forms.find((f) => f.id === request.form?.id);
  const field = form?.versions.find((v) => v.version === request.form?.version)?.fields.find((f) => f.id === fieldId);
  const max = field?.validations.maxLength;
  return max === undefined ? {} : { max };
}

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
  ctaId: string | undefined;
  timeline: ReadonlyArray<{ state: string; at: string; by: string }>;
  ticked: ReadonlySet<string>;
  /** The issue is closed, or this pass closes it. */
  closed: boolean;
  botUsername: string;
}): object {
  const { issue, request, qualification: q, assignment, config } = args;
  const engaged = args.state !== null && !['new', 'needs-info', 'not-qualified'].includes(args.state);
  // A request closed by hand keeps its CTA and checklist in view (what was missing).
  const withCta = args.state !== null && [...CHECKLIST_STATES, 'closed-incomplete'].includes(args.state);
  const rawCustomer =
    typeof request.fields[config.fieldMap.customer] === 'string'
      ? (request.fields[config.fieldMap.customer] as string)
      : 'the customer';
  const arr = request.fields[config.fieldMap.arr];
  const renewal = request.fields[config.fieldMap.renewalDate];
  const customer = request.fields[config.fieldMap.customer];
  const echo = echoLimit(request, config.fieldMap.customer, config);
  const link = (r: RelatedRequest) => ({
    // Links by URL, not `#iid`: a reference in the bot's note would cross-post into the other issue.
    text: `${neutralizeInline(r.title)} (${r.state === 'opened' ? 'open' : 'closed'}, ${r.createdAt.slice(0, 10)})`,
    url: r.url,
  });
  return {
    author: issue.author,
    form: neutralizeInline(request.form!.title),
    customer: typeof customer === 'string' ? neutralizeInline(customer, echo) : null,
    customerCell: typeof customer === 'string' ? neutralizeCell(customer, echo) || null : null,
    state: args.state,
    lifecycle: args.lifecycle,
    needsInfo: args.state === 'needs-info',
    notQualified: args.state === 'not-qualified',
    override: args.override && q.status === 'not-qualified',
    problems: request.problems.map((p) => ({
      label: neutralizeInline(p.label ?? 'Description'),
      message: neutralizeInline(p.message),
    })),
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
    assignment: assignment
      ? {
          assignee: assignment.assignee,
          mention: assignment.mention,
          reason: neutralizeInline(assignment.reason),
          skipped: assignment.skipped.map((x) => neutralizeInline(x)),
        }
      : null,
    duplicates: args.duplicates.slice(0, RELATED_SHOWN).map(link),
    moreDuplicates: Math.max(0, args.duplicates.length - RELATED_SHOWN),
    history: args.history.slice(0, RELATED_SHOWN).map(link),
    historyCount: args.history.length,
    moreHistory: Math.max(0, args.history.length - RELATED_SHOWN),
    limit: config.intake.engagementLimit,
    historyMonths: config.intake.historyMonths,
    limitReached: args.state === 'limit-reached',
    overrideLabel: config.labels.override,
    tracker: engaged
      ? {
          segment: `${request.form!.segment}/${request.form!.region}`,
          arr: typeof arr === 'number' ? formatUsd(arr) : '—',
          renewal: typeof renewal === 'string' ? renewal : '—',
          nextStep: nextStep(args.state, args.closed, args.botUsername),
          closed: args.closed,
          timeline: [
            { state: 'opened', at: issue.createdAt.slice(0, 16).replace('T', ' '), by: issue.author },
            ...args.timeline.map((t) => ({ state: t.state, at: t.at.slice(0, 16).replace('T', ' '), by: t.by })),
          ],
          cta: withCta
            ? [
                ...Object.entries(CTA_FIELDS).map(([field, key]) => [
                  field,
                  ctaRecord(rawCustomer, q.priority, issue.webUrl)[key]!,
                ]),
                ...(args.ctaId ? [['CRM record', args.ctaId]] : []),
              ].map(([field, value]) => ({ field, value: neutralizeCell(value!) }))
            : null,
          checklist: withCta ? CHECKLIST.map((item) => ({ item, done: args.ticked.has(item) })) : null,
        }
      : null,
  };
}

function assignedModel(assignee: string, request: ParsedRequest, config: Config, reason: string): object {
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
