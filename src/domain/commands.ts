import type { Assessment } from './assess.js';
import { noteOnce } from './bot-notes.js';
import { CHECKLIST_COMMANDS, CHECKLIST_HELP, runChecklistCommands } from './checklist-commands.js';
import { tickedItems } from './checklist.js';
import { findCommands, type Command } from './command-mentions.js';
import {
  decideLifecycle,
  type LifecycleInput,
  type LifecycleMemory,
  type LifecycleNote,
  type LifecycleOutcome,
} from './lifecycle.js';
import { neutralizeInline } from './markdown-safety.js';
import type { NoteWrite } from './plan.js';
import { route, type RouteDecision } from './route.js';
import { sameName } from './same-name.js';
import { readDate, readUser } from './values.js';
import { actorRoles, checkTransition, CLOSED_STATES, type Actor, type State } from './workflow.js';

/**
 * The commands people write in comments (`@<bot> accept`, see `command-mentions.ts`), run in order:
 * each moves the request like a label would, as the person who wrote it, and is answered once.
 */

/** Commands that move the request, and where to. */
export const STATE_COMMANDS: Readonly<Record<string, State>> = {
  accept: 'accepted',
  schedule: 'scheduled',
  complete: 'completed',
  decline: 'declined',
  withdraw: 'withdrawn',
};

export const COMMAND_HELP = [
  '`help` — this list',
  '`recheck` — read the request again and update the note',
  '`accept` — accept the engagement (the assigned CSE, a CSE of the pool, or a manager)',
  '`schedule <date>` — the call is booked for that date',
  '`complete` — the engagement is done (the checklist must be ticked)',
  '`decline <reason>` — decline, with the reason for the author',
  '`withdraw` — the author withdraws the request',
  '`reassign [@user]` — hand the request to that CSE, or to the next one of the pool (the assigned CSE or a manager)',
];

export interface CommandsOutcome {
  /** The lifecycle as the commands leave it. */
  life: LifecycleOutcome;
  /** The lifecycle's notes of every step (each key once). */
  lifeNotes: LifecycleNote[];
  /** The answers to the commands. */
  replies: NoteWrite[];
  /** The routing, as a `reassign` may have changed it. */
  routing: RouteDecision | null;
  /** The checklist as the commands leave it, and when each item was first ticked. */
  ticked: ReadonlySet<string>;
  tickedAt: Record<string, string>;
}

/** One pass's run of the commands: what each step reads and leaves. */
interface Run extends CommandsOutcome {
  a: Assessment;
  lifeInput: LifecycleInput;
  rolesOf: (username: string) => Actor[];
}

/** The lifecycle of this pass, with the commands written since the last pass run in order. */
export function runCommands(a: Assessment, intakeState: State, routing: RouteDecision | null): CommandsOutcome {
  const { issue, memory, botUsername } = a;
  const rolesOf = rolesIn(a);
  const commands = findCommands(issue.humanNotes, botUsername, memory.lastNote ?? 0);
  const noteInput = lifecycleInput(a, intakeState);
  // `done`/`undo` first, so the lifecycle judges the checklist as the commands leave it.
  const checklist = runChecklistCommands(commands, {
    ticked: noteInput.ticked,
    tickedAt: memory.ticks ?? {},
    state: () => decideLifecycle(noteInput).state,
    closed: issue.state === 'closed',
    rolesOf,
  });
  const lifeInput = { ...noteInput, ticked: checklist.ticked };
  const life = decideLifecycle(lifeInput);
  const run: Run = {
    a,
    lifeInput,
    rolesOf,
    life,
    lifeNotes: [...life.notes],
    replies: [],
    routing,
    ticked: checklist.ticked,
    tickedAt: checklist.tickedAt,
  };
  for (const r of checklist.replies) reply(run, r.command, r.text);
  for (const c of commands) if (!(c.name in CHECKLIST_COMMANDS)) runCommand(run, c);
  // Marked read: an edited comment, or a reopened issue, never runs an old command again.
  if (commands.length > 0)
    run.life = {
      ...run.life,
      memory: { ...run.life.memory, lastNote: Math.max(memory.lastNote ?? 0, ...commands.map((c) => c.noteId)) },
    };
  const { life: last, lifeNotes, replies, routing: routed, ticked, tickedAt } = run;
  return { life: last, lifeNotes, replies, routing: routed, ticked, tickedAt };
}

/** The roles on this request of a person who wrote a command (commands come from people's comments only). */
function rolesIn({ issue, config, request }: Assessment): (username: string) => Actor[] {
  return (username) =>
    actorRoles(
      {
        username,
        isBot: false,
        isAuthor: sameName(username, issue.author),
        isAssignee: issue.assignees.some((x) => sameName(x, username)),
      },
      config,
      request.form.segment,
      request.form.region,
    );
}

/** The lifecycle's input as the request note stands, before any command runs. */
function lifecycleInput(a: Assessment, intakeState: State): LifecycleInput {
  return {
    issue: a.issue,
    memory: a.memory as LifecycleMemory,
    intakeState,
    labelState: a.labelState,
    ticked: tickedItems(a.note?.body ?? ''),
    config: a.config,
    botUsername: a.botUsername,
    segment: a.request.form.segment,
    region: a.request.form.region,
    now: a.now,
  };
}

function reply(run: Run, c: Command, text: string): void {
  const note = noteOnce(run.a.issue.botNotes, `reply-${c.noteId}`, `@${c.author}, ${text}`, { internal: c.internal });
  if (note) run.replies.push(note);
}

function runCommand(run: Run, c: Command): void {
  const { issue, request, botUsername } = run.a;
  const target = STATE_COMMANDS[c.name];
  const help = `the commands I understand, at the start of a comment after @${botUsername}:\n\n${[...COMMAND_HELP, ...CHECKLIST_HELP].map((h) => `- ${h}`).join('\n')}`;
  if (c.name === 'help') reply(run, c, help);
  // Answered, and marked read: reopening the issue later must not run an old command.
  else if (issue.state === 'closed' && (target || c.name === 'reassign'))
    reply(run, c, `I did not ${c.name} this request: it is closed (\`${run.life.state}\`). Reopen it first.`);
  else if (c.name === 'recheck')
    reply(
      run,
      c,
      `rechecked: the request is \`${run.life.state}\`, with ${request.problems.length} problem(s) in its description.`,
    );
  else if (c.name === 'reassign') reassign(run, c);
  else if (target) moveTo(run, c, target);
  else reply(run, c, `I do not know \`${neutralizeInline(c.name)}\`; ${help}`);
}

function reassign(run: Run, c: Command): void {
  const to = reassignTarget(run.a, c.argument, run.rolesOf(c.author), run.life.state);
  if ('refusal' in to) return reply(run, c, `I did not reassign this request: ${to.refusal}`);
  run.routing = {
    assignee: to.username,
    via: 'pool',
    pool: null,
    strategy: null,
    reason: `reassigned by ${c.author}`,
    skipped: [],
  };
  reply(run, c, `done: the request is now assigned to ${to.username}.`);
}

function reassignTarget(
  a: Assessment,
  argument: string,
  roles: readonly string[],
  now: State,
): { username: string } | { refusal: string } {
  if (!roles.includes('manager') && !roles.includes('assigned-cse'))
    return { refusal: 'only the assigned CSE or a manager can hand it on.' };
  if (CLOSED_STATES.includes(now)) return { refusal: `it is \`${now}\`.` };
  const current = a.issue.assignees[0];
  if (argument !== '') {
    const named = readUser(argument.split(/\s+/)[0]!);
    if ('error' in named) return { refusal: `${neutralizeInline(named.error)}.` };
    const person = a.config.person(named.value);
    if (!person?.roles.includes('cse'))
      return { refusal: `${neutralizeInline(named.value)} is not a CSE in the bot's people.` };
    if (current && sameName(current, person.username))
      return { refusal: `it is already assigned to ${person.username}.` };
    return { username: person.username };
  }
  // Without a name: the next CSE routing would choose, leaving out the one who hands it on.
  const open = { ...a.workload.open, ...(current ? { [current.toLowerCase()]: Number.MAX_SAFE_INTEGER } : {}) };
  const next = route(a.request, a.config, { ...a.workload, open }, a.today);
  return next.assignee && !(current && sameName(next.assignee, current))
    ? { username: next.assignee }
    : { refusal: 'no other CSE of the pool is available; name one, e.g. `reassign @name`.' };
}

/** A command that moves the request, judged like the label move it stands for. */
function moveTo(run: Run, c: Command, target: State): void {
  const { issue, config, botUsername } = run.a;
  let when = '';
  if (target === 'scheduled') {
    const date = readDate(c.argument);
    if ('error' in date)
      return reply(
        run,
        c,
        `give the date of the call, e.g. \`@${botUsername} schedule 2027-01-15\` (${neutralizeInline(date.error)}).`,
      );
    when = ` (call on ${date.value})`;
  }
  const check = checkTransition(run.life.state, target, run.rolesOf(c.author));
  if (!check.allowed)
    return reply(run, c, `I did not ${c.name} this request: ${check.reason}. Instead, ${check.instead}.`);
  // The command as a label event of its own (a negative id never collides with GitLab's).
  const event = {
    id: -c.noteId,
    user: c.author,
    createdAt: c.at,
    label: `${config.labels.engagement}::${target}`,
    action: 'add' as const,
  };
  run.life = decideLifecycle({
    ...run.lifeInput,
    issue: { ...issue, labelEvents: [...(issue.labelEvents ?? []), event] },
    memory: run.life.memory,
    labelState: target,
  });
  run.lifeNotes.push(...run.life.notes.filter((n) => !run.lifeNotes.some((m) => m.key === n.key)));
  reply(run, c, `done: the request is now \`${target}\`${when}.`);
}
