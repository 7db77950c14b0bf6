import type { Config } from './config.js';
import { CHECKLIST_STATES, missingChecklist } from './checklist.js';
import { reasonFrom } from './command-mentions.js';
import { neutralizeInline } from './markdown-safety.js';
import type { IssueSnapshot, LabelEvent } from './snapshot.js';
import { actorRoles, checkTransition, CLOSED_STATES, INTAKE_STATES, STATES, type State } from './workflow.js';
import { sameName } from './same-name.js';

/**
 * The engagement lifecycle after intake: people move a request with `engagement::` labels; the bot
 * checks each move against the workflow, reverts the ones it does not allow, closes the issue on
 * completion, decline or withdrawal, and records an issue closed by hand. Pure: the label history,
 * the notes and `now` are inputs.
 */

export interface TimelineEntry {
  state: State;
  at: string;
  by: string;
}

/** What the bot remembers between passes (kept in its note's hidden marker). */
export interface LifecycleMemory {
  state?: State;
  /** The last open state, to return to when a closed issue is reopened. */
  openState?: State;
  /** The issue is (or is being) closed in this state; a `completed` waiting on its checklist is not. */
  closed?: boolean;
  /** The newest label event the bot has judged: older moves are never judged twice. */
  lastEvent?: number;
  /** The newest comment whose command the bot has run: an edited comment never runs twice. */
  lastNote?: number;
  /** The CRM's id for this engagement's CTA record, once sent. */
  ctaId?: string;
  timeline?: TimelineEntry[];
}

export interface LifecycleNote {
  key: string;
  /** Who must be told (mentioned), if anyone. */
  to: string | null;
  text: string;
  /** Echoes an internal note: posted as internal too. */
  internal?: boolean;
}

export interface LifecycleOutcome {
  /** The state label the issue should carry. */
  state: State;
  memory: LifecycleMemory;
  stateEvent: 'close' | null;
  /** Notes to post once each (found again by key, never posted twice). */
  notes: LifecycleNote[];
  summary: string[];
}

export interface LifecycleInput {
  issue: IssueSnapshot;
  memory: LifecycleMemory;
  /** The state intake decides from the request's content. */
  intakeState: State;
  /** The engagement state label the issue carries now, if any. */
  labelState: string | null;
  /** Checklist items ticked in the bot's note as it stands. */
  ticked: ReadonlySet<string>;
  config: Config;
  botUsername: string;
  segment: string | null;
  region: string | null;
  now: Date;
}

const PEOPLE_STATES: readonly State[] = ['accepted', 'scheduled', 'completed', 'declined', 'withdrawn'];

function isState(s: string | null | undefined): s is State {
  return s !== null && s !== undefined && (STATES as readonly string[]).includes(s);
}

/** Whether this pass needs the label history: someone else moved the state, or closed the issue. */
export function needsLabelHistory(
  labelState: string | null,
  memory: LifecycleMemory,
  issueState: 'opened' | 'closed',
): boolean {
  if (issueState === 'closed') return !memory.closed;
  if (memory.closed) return false;
  if (labelState === null) return false;
  // No record (the bot's note was deleted, or the bot starts late) of a request people took
  // further: the history says who moved it there and when, so what is adopted is stable.
  if (memory.state === undefined) return PEOPLE_STATES.includes(labelState as State);
  return (
    labelState !== memory.state &&
    !(INTAKE_STATES.includes(labelState as State) && !PEOPLE_STATES.includes(memory.state))
  );
}

/** The most recent event that put `label` on the issue. */
function lastAdd(events: readonly LabelEvent[] | null, label: string): LabelEvent | null {
  if (!events) return null;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.action === 'add' && sameName(e.label, label)) return e;
  }
  return null;
}

/** One decision's view: its input, and the recorded timeline as this pass extends it. */
interface Pass {
  input: LifecycleInput;
  /** The state the bot recorded on its last pass. */
  recorded: State | undefined;
  timeline: TimelineEntry[];
}

export function decideLifecycle(input: LifecycleInput): LifecycleOutcome {
  const pass: Pass = { input, recorded: input.memory.state, timeline: [...(input.memory.timeline ?? [])] };
  // Closed: by the bot's own decision (nothing more to do), or by hand before completion.
  if (input.issue.state === 'closed') return closed(pass);
  // Reopened after it was closed: back to the last open state.
  if (input.memory.closed) {
    const open = input.memory.openState;
    const back = open && !CLOSED_STATES.includes(open) ? open : input.intakeState;
    return out(pass, back, { summary: [`reopened: back to ${back}`] });
  }
  const { labelState } = input;
  // A request the bot has no record of, already further along (the bot started late, or lost its
  // note): adopt the state found rather than second-guess it.
  if (pass.recorded === undefined && isState(labelState) && PEOPLE_STATES.includes(labelState))
    return pending(pass, labelState);
  const from: State = pass.recorded ?? input.intakeState;
  // Intake owns its states until a person takes the request further.
  if (!PEOPLE_STATES.includes(from) && (labelState === null || !PEOPLE_STATES.includes(labelState as State)))
    return out(pass, input.intakeState);
  if (labelState === null || labelState === from) return pending(pass, from);
  return moved(pass, from, labelState);
}

const engagementLabel = (pass: Pass, state: string) => `${pass.input.config.labels.engagement}::${state}`;

/** The outcome in `state`, with the timeline ending in it and the memory to keep. */
function out(pass: Pass, state: State, extra: Partial<LifecycleOutcome> = {}): LifecycleOutcome {
  const { issue, memory, botUsername, now } = pass.input;
  const last = pass.timeline[pass.timeline.length - 1];
  if (!last || last.state !== state) {
    const event = lastAdd(issue.labelEvents, engagementLabel(pass, state));
    pass.timeline.push({ state, at: event?.createdAt ?? now.toISOString(), by: event?.user ?? botUsername });
  }
  // The bot's own label events are never replayed as moves, so remembering them would only cost
  // a note edit on the pass after every label the bot applies.
  const newest = issue.labelEvents?.reduce((m, e) => (sameName(e.user, botUsername) ? m : Math.max(m, e.id)), 0) ?? 0;
  const lastEvent = Math.max(memory.lastEvent ?? 0, newest) || undefined;
  const result: LifecycleOutcome = {
    state,
    memory: {
      state,
      openState: CLOSED_STATES.includes(state) ? (memory.openState ?? pass.recorded) : state,
      timeline: pass.timeline,
      ...(lastEvent === undefined ? {} : { lastEvent }),
      ...(memory.lastNote === undefined ? {} : { lastNote: memory.lastNote }),
      ...(memory.ctaId === undefined ? {} : { ctaId: memory.ctaId }),
    },
    stateEvent: null,
    notes: [],
    summary: [],
    ...extra,
  };
  if (issue.state === 'closed' || result.stateEvent === 'close') result.memory.closed = true;
  return result;
}

function closed(pass: Pass): LifecycleOutcome {
  const { issue, memory, botUsername, intakeState, ticked } = pass.input;
  const recorded = pass.recorded;
  if (recorded && CLOSED_STATES.includes(recorded) && memory.closed) return out(pass, recorded);
  // Closed by the bot itself (waiting on its author too long): its closing note says it all.
  if (sameName(issue.closedBy, botUsername))
    return out(pass, 'closed-incomplete', { summary: ['closed by the bot: waiting on its author too long'] });
  const byAuthor = sameName(issue.closedBy, issue.author);
  const state: State = byAuthor ? 'withdrawn' : 'closed-incomplete';
  const engaged = recorded !== undefined && CHECKLIST_STATES.includes(recorded);
  const missing = engaged ? missingChecklist(ticked) : [];
  const what = !engaged
    ? `the request was still \`${recorded ?? intakeState}\``
    : missing.length > 0
      ? `still open on the checklist: ${missing.join('; ')}`
      : 'the engagement was never marked completed';
  return out(pass, state, {
    notes: [
      {
        key: `closed-${issue.closedAt ?? 'unknown'}`,
        to: null,
        text: byAuthor
          ? `This request was closed by its author before completion and is recorded as withdrawn (${what}). The bot never reopens it on its own.`
          : `This request was closed by hand before completion and is recorded as \`closed-incomplete\` (${what}). The bot never reopens it on its own.`,
      },
    ],
    summary: [`closed by ${issue.closedBy ?? 'someone'} before completion: ${state}`],
  });
}

/**
 * A person moved the label: who, and may they? Moves made while the bot was away are replayed
 * in order from the label history, so accepted-then-scheduled is not mistaken for a jump.
 */
function moved(pass: Pass, from: State, labelState: string): LifecycleOutcome {
  const replayed = replay(pass, from, labelState);
  if ('refused' in replayed) return replayed.refused;
  let { state } = replayed;
  const { moves } = replayed;
  if (state !== labelState) {
    // No usable history (or it does not end at the label): judge the move from the recorded state.
    const event = lastAdd(pass.input.issue.labelEvents, engagementLabel(pass, labelState));
    const actor = event?.user ?? null;
    const refusal = judge(pass, from, labelState, actor);
    if (refusal) return refuse(pass, from, actor, event, refusal, labelState);
    moves.push(`${actor ?? 'someone'} moved the request from ${from} to ${labelState}`);
    state = labelState as State;
  }
  const last = lastAdd(pass.input.issue.labelEvents, engagementLabel(pass, state));
  const outcome = out(pass, state, { summary: moves });
  return settled({ ...outcome, ...effects(pass, state, last?.user ?? null, outcome) });
}

/** The label moves since the last judged one, replayed in order while each is allowed. */
function replay(
  pass: Pass,
  from: State,
  labelState: string,
): { state: State; moves: string[] } | { refused: LifecycleOutcome } {
  const { issue, memory, botUsername } = pass.input;
  const since = pass.timeline[pass.timeline.length - 1]?.at ?? '';
  const prefix = engagementLabel(pass, '').toLowerCase();
  const steps = (issue.labelEvents ?? []).filter(
    (e) =>
      e.action === 'add' &&
      e.label !== null &&
      e.label.toLowerCase().startsWith(prefix) &&
      (memory.lastEvent !== undefined ? e.id > memory.lastEvent : e.createdAt > since) &&
      !sameName(e.user, botUsername),
  );
  let state = from;
  const moves: string[] = [];
  // Only a history that ends at the label the issue carries is replayed.
  if (steps.length === 0 || steps[steps.length - 1]!.label!.slice(prefix.length) !== labelState)
    return { state, moves };
  for (const step of steps) {
    const to = step.label!.slice(prefix.length);
    if (to === state) continue;
    const refusal = judge(pass, state, to, step.user);
    if (refusal) return { refused: refuse(pass, state, step.user, step, refusal, to) };
    pass.timeline.push({ state: to as State, at: step.createdAt, by: step.user ?? 'someone' });
    moves.push(`${step.user ?? 'someone'} moved the request from ${state} to ${to}`);
    state = to as State;
  }
  return { state, moves };
}

/** Why a move from `from` to `to` by `who` is not allowed, or null when it is. */
function judge(pass: Pass, from: State, to: string, who: string | null): { reason: string; instead: string } | null {
  if (!isState(to))
    return {
      reason: 'it is not a state of the engagement workflow',
      instead: `use one of ${STATES.map((x) => `\`${x}\``).join(', ')}`,
    };
  const check = checkTransition(from, to, rolesOf(pass, who));
  return check.allowed ? null : { reason: check.reason, instead: check.instead };
}

function rolesOf({ input }: Pass, who: string | null) {
  if (!who) return [];
  return actorRoles(
    {
      username: who,
      isBot: sameName(who, input.botUsername),
      isAuthor: sameName(who, input.issue.author),
      isAssignee: input.issue.assignees.some((a) => sameName(a, who)),
    },
    input.config,
    input.segment,
    input.region,
  );
}

/** An outcome that closes the issue is remembered as closed (so a later reopen is recognised). */
function settled(outcome: LifecycleOutcome): LifecycleOutcome {
  return outcome.stateEvent === 'close' ? { ...outcome, memory: { ...outcome.memory, closed: true } } : outcome;
}

function refuse(
  pass: Pass,
  back: State,
  who: string | null,
  e: LabelEvent | null,
  { reason, instead }: { reason: string; instead: string },
  to: string,
): LifecycleOutcome {
  return out(pass, back, {
    notes: [
      {
        key: `refused-${e?.id ?? 'unknown'}`,
        to: who,
        text: `the move to \`${neutralizeInline(to)}\` was undone: ${reason}. Instead, ${instead}.`,
      },
    ],
    summary: [`reverted ${to} → ${back}: ${reason}`],
  });
}

/**
 * A state waiting on something (checklist, a reason) is re-checked on every pass. Who entered
 * it is a person: the label the bot applied for a command, or adopted, names the bot.
 */
function pending(pass: Pass, state: State): LifecycleOutcome {
  const { issue, botUsername } = pass.input;
  const e = lastAdd(issue.labelEvents, engagementLabel(pass, state));
  const base = out(pass, state);
  const who = [e?.user, base.memory.timeline?.at(-1)?.by].find((u) => u && !sameName(u, botUsername)) ?? null;
  return settled({ ...base, ...effects(pass, state, who, base) });
}

/** What entering `state` brings: closing the issue, or asking for what is missing. */
function effects(pass: Pass, state: State, person: string | null, base: LifecycleOutcome): Partial<LifecycleOutcome> {
  // The bot never addresses itself.
  const who = sameName(person, pass.input.botUsername) ? null : person;
  // When the state was entered, as recorded in the timeline (`out` always ends it with this
  // state): the same on every pass, whether or not this pass loaded the label history, so a note
  // keyed by it is written once.
  const since = base.memory.timeline?.at(-1)?.at ?? '';
  if (state === 'completed') return completed(pass, who, since, base);
  if (state === 'declined') return declined(pass, who, since, base);
  if (state === 'withdrawn')
    return {
      stateEvent: 'close',
      notes: [
        { key: `withdrawn-${since}`, to: null, text: `Withdrawn by ${who ?? 'its author'}; the request is closed.` },
      ],
      summary: [...base.summary, 'withdrawn: closing'],
    };
  return {};
}

function completed(pass: Pass, who: string | null, since: string, base: LifecycleOutcome): Partial<LifecycleOutcome> {
  const { issue, ticked } = pass.input;
  const missing = missingChecklist(ticked);
  if (missing.length > 0)
    return {
      notes: [
        {
          key: `incomplete-${since}`,
          to: who,
          text: `the engagement stays open until the checklist in the bot's note is done. Still open: ${missing.join('; ')}.`,
        },
      ],
      summary: [...base.summary, `completed with ${missing.length} checklist item(s) open: kept open`],
    };
  return {
    stateEvent: 'close',
    notes: [
      { key: 'completion', to: issue.author, text: completionSummary(base.memory.timeline ?? [], issue.createdAt) },
    ],
    summary: [...base.summary, 'completed: closing'],
  };
}

function declined(pass: Pass, who: string | null, since: string, base: LifecycleOutcome): Partial<LifecycleOutcome> {
  const { issue, botUsername } = pass.input;
  const reason = issue.humanNotes.find(
    (n) => sameName(n.author, who) && n.createdAt >= since && reasonFrom(n.body, botUsername) !== '',
  );
  if (!reason)
    return {
      notes: [
        {
          key: `decline-reason-${since}`,
          to: who,
          text: 'please reply with the reason for declining; the bot passes it on to the author and closes the request.',
        },
      ],
      summary: [...base.summary, 'declined without a reason: asked for one'],
    };
  return {
    stateEvent: 'close',
    // The reason is a person's words echoed into a note: made inert first.
    notes: [
      {
        key: `declined-${reason.id}`,
        to: issue.author,
        text: `${who ?? 'The CSE'} declined this request. Reason: ${neutralizeInline(reasonFrom(reason.body, botUsername))}`,
        ...(reason.internal ? { internal: true } : {}),
      },
    ],
    summary: [...base.summary, 'declined with a reason: closing'],
  };
}

/** Durations from opening to assignment, acceptance and completion, from the recorded timeline. */
export function completionSummary(timeline: readonly TimelineEntry[], createdAt: string): string {
  const at = (s: State) => timeline.find((t) => t.state === s)?.at;
  const span = (to: string | undefined) =>
    to ? humanDuration(Date.parse(to) - Date.parse(createdAt)) : 'not recorded';
  return [
    'The engagement is complete and this request is closed. Thank you!',
    '',
    `- Time to assign: ${span(at('assigned') ?? at('limit-reached'))}`,
    `- Time to accept: ${span(at('accepted'))}`,
    `- Time to complete: ${span(at('completed'))}`,
  ].join('\n');
}

export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'not recorded';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return `${days} days ${hours % 24} h`;
}
