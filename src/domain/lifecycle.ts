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

export function decideLifecycle(input: LifecycleInput): LifecycleOutcome {
  const { issue, memory, config } = input;
  const engagementLabel = (s: string) => `${config.labels.engagement}::${s}`;
  const recorded = memory.state;
  const timeline = [...(memory.timeline ?? [])];
  const out = (state: State, extra: Partial<LifecycleOutcome> = {}): LifecycleOutcome => {
    const last = timeline[timeline.length - 1];
    if (!last || last.state !== state) {
      const event = lastAdd(issue.labelEvents, engagementLabel(state));
      timeline.push({ state, at: event?.createdAt ?? input.now.toISOString(), by: event?.user ?? input.botUsername });
    }
    // The bot's own label events are never replayed as moves, so remembering them would only cost
    // a note edit on the pass after every label the bot applies.
    const newest =
      issue.labelEvents?.reduce((m, e) => (sameName(e.user, input.botUsername) ? m : Math.max(m, e.id)), 0) ?? 0;
    const lastEvent = Math.max(memory.lastEvent ?? 0, newest) || undefined;
    const result: LifecycleOutcome = {
      state,
      memory: {
        state,
        openState: CLOSED_STATES.includes(state) ? (memory.openState ?? recorded) : state,
        timeline,
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
  };

  // Closed: by the bot's own decision (nothing more to do), or by hand before completion.
  if (issue.state === 'closed') {
    if (recorded && CLOSED_STATES.includes(recorded) && memory.closed) return out(recorded);
    // Closed by the bot itself (waiting on its author too long): its closing note says it all.
    if (sameName(issue.closedBy, input.botUsername))
      return out('closed-incomplete', { summary: ['closed by the bot: waiting on its author too long'] });
    const byAuthor = sameName(issue.closedBy, issue.author);
    const state: State = byAuthor ? 'withdrawn' : 'closed-incomplete';
    const engaged = recorded !== undefined && CHECKLIST_STATES.includes(recorded);
    const missing = engaged ? missingChecklist(input.ticked) : [];
    const what = !engaged
      ? `the request was still \`${recorded ?? input.intakeState}\``
      : missing.length > 0
        ? `still open on the checklist: ${missing.join('; ')}`
        : 'the engagement was never marked completed';
    return out(state, {
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

  // Reopened after it was closed: back to the last open state.
  if (memory.closed) {
    const back = memory.openState && !CLOSED_STATES.includes(memory.openState) ? memory.openState : input.intakeState;
    return out(back, { summary: [`reopened: back to ${back}`] });
  }

  const labelState = input.labelState;
  // A request the bot has no record of, already further along (the bot started late, or lost its
  // note): adopt the state found rather than second-guess it.
  if (recorded === undefined && isState(labelState) && PEOPLE_STATES.includes(labelState)) return pending(labelState);
  const from: State = recorded ?? input.intakeState;
  // Intake owns its states until a person takes the request further.
  if (!PEOPLE_STATES.includes(from) && (labelState === null || !PEOPLE_STATES.includes(labelState as State))) {
    return out(input.intakeState);
  }
  if (labelState === null || labelState === from) return pending(from);

  // A person moved the label: who, and may they? Moves made while the bot was away are replayed
  // in order from the label history, so accepted-then-scheduled is not mistaken for a jump.
  const rolesOf = (who: string | null) =>
    who
      ? actorRoles(
          {
            username: who,
            isBot: sameName(who, input.botUsername),
            isAuthor: sameName(who, issue.author),
            isAssignee: issue.assignees.some((a) => sameName(a, who)),
          },
          config,
          input.segment,
          input.region,
        )
      : [];
  const since = timeline[timeline.length - 1]?.at ?? '';
  const prefix = engagementLabel('').toLowerCase();
  const steps = (issue.labelEvents ?? []).filter(
    (e) =>
      e.action === 'add' &&
      e.label !== null &&
      e.label.toLowerCase().startsWith(prefix) &&
      (memory.lastEvent !== undefined ? e.id > memory.lastEvent : e.createdAt > since) &&
      !sameName(e.user, input.botUsername),
  );
  let state = from;
  const moves: string[] = [];
  for (const step of steps.length > 0 && steps[steps.length - 1]!.label!.slice(prefix.length) === labelState
    ? steps
    : []) {
    const to = step.label!.slice(prefix.length);
    if (to === state) continue;
    if (!isState(to))
      return refuse(
        state,
        step.user,
        step,
        'it is not a state of the engagement workflow',
        `use one of ${STATES.map((x) => `\`${x}\``).join(', ')}`,
        to,
      );
    const check = checkTransition(state, to, rolesOf(step.user));
    if (!check.allowed) return refuse(state, step.user, step, check.reason, check.instead, to);
    timeline.push({ state: to, at: step.createdAt, by: step.user ?? 'someone' });
    moves.push(`${step.user ?? 'someone'} moved the request from ${state} to ${to}`);
    state = to;
  }
  if (state !== labelState) {
    // No usable history (or it does not end at the label): judge the move from the recorded state.
    const event = lastAdd(issue.labelEvents, engagementLabel(labelState));
    const actor = event?.user ?? null;
    if (!isState(labelState))
      return refuse(
        from,
        actor,
        event,
        'it is not a state of the engagement workflow',
        `use one of ${STATES.map((x) => `\`${x}\``).join(', ')}`,
        labelState,
      );
    const check = checkTransition(from, labelState, rolesOf(actor));
    if (!check.allowed) return refuse(from, actor, event, check.reason, check.instead, labelState);
    moves.push(`${actor ?? 'someone'} moved the request from ${from} to ${labelState}`);
    state = labelState;
  }
  const last = lastAdd(issue.labelEvents, engagementLabel(state));
  const moved = out(state, { summary: moves });
  return settled({ ...moved, ...effects(state, last?.user ?? null, moved) });

  /** An outcome that closes the issue is remembered as closed (so a later reopen is recognised). */
  function settled(outcome: LifecycleOutcome): LifecycleOutcome {
    return outcome.stateEvent === 'close' ? { ...outcome, memory: { ...outcome.memory, closed: true } } : outcome;
  }

  function refuse(
    back: State,
    who: string | null,
    e: LabelEvent | null,
    reason: string,
    instead: string,
    to: string,
  ): LifecycleOutcome {
    return out(back, {
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
  function pending(state: State): LifecycleOutcome {
    const e = lastAdd(issue.labelEvents, engagementLabel(state));
    const base = out(state);
    const who = [e?.user, base.memory.timeline?.at(-1)?.by].find((u) => u && !sameName(u, input.botUsername)) ?? null;
    return settled({ ...base, ...effects(state, who, base) });
  }

  function effects(state: State, person: string | null, base: LifecycleOutcome): Partial<LifecycleOutcome> {
    // The bot never addresses itself.
    const who = sameName(person, input.botUsername) ? null : person;
    // When the state was entered, as recorded in the timeline (`out` always ends it with this
    // state): the same on every pass, whether or not this pass loaded the label history, so a note
    // keyed by it is written once.
    const since = base.memory.timeline?.at(-1)?.at ?? '';
    if (state === 'completed') {
      const missing = missingChecklist(input.ticked);
      if (missing.length > 0) {
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
      }
      return {
        stateEvent: 'close',
        notes: [
          { key: 'completion', to: issue.author, text: completionSummary(base.memory.timeline ?? [], issue.createdAt) },
        ],
        summary: [...base.summary, 'completed: closing'],
      };
    }
    if (state === 'declined') {
      const reason = issue.humanNotes.find(
        (n) => sameName(n.author, who) && n.createdAt >= since && reasonFrom(n.body, input.botUsername) !== '',
      );
      if (!reason) {
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
      }
      return {
        stateEvent: 'close',
        // The reason is a person's words echoed into a note: made inert first.
        notes: [
          {
            key: `declined-${reason.id}`,
            to: issue.author,
            text: `${who ?? 'The CSE'} declined this request. Reason: ${neutralizeInline(reasonFrom(reason.body, input.botUsername))}`,
            ...(reason.internal ? { internal: true } : {}),
          },
        ],
        summary: [...base.summary, 'declined with a reason: closing'],
      };
    }
    if (state === 'withdrawn') {
      return {
        stateEvent: 'close',
        notes: [
          { key: `withdrawn-${since}`, to: null, text: `Withdrawn by ${who ?? 'its author'}; the request is closed.` },
        ],
        summary: [...base.summary, 'withdrawn: closing'],
      };
    }
    return {};
  }
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
