import { CHECKLIST, CHECKLIST_STATES, missingChecklist } from './checklist.js';
import type { Command } from './command-mentions.js';
import { neutralizeInline } from './markdown-safety.js';
import { PEOPLE_WHO_RUN_IT, type Actor, type State } from './workflow.js';

/**
 * `done <item>` / `undo <item>`: ticking the tracker's checklist by command. GitLab lets only a
 * note's author or a Maintainer edit a comment (`app/policies/note_policy.rb`), so a CSE with the
 * Reporter or Developer role cannot tick a box in the bot's note; the command does it for them.
 * The ticks land in the note the bot re-renders, which stays the one record of them.
 */

/** The checklist commands, and whether each ticks (`done`) or unticks (`undo`). */
export const CHECKLIST_COMMANDS: Readonly<Record<string, boolean>> = { done: true, undo: false };

/** The short name each item is listed by in replies (any word prefix of an item also finds it). */
export const CHECKLIST_NAMES: Readonly<Record<string, string>> = {
  [CHECKLIST[0]]: 'cta',
  [CHECKLIST[1]]: 'call held',
  [CHECKLIST[2]]: 'call logged',
  [CHECKLIST[3]]: 'email',
};

/** The names to give, as replies and the help list them. */
const ITEM_NAMES = `${CHECKLIST.map((item) => `\`${CHECKLIST_NAMES[item]}\``).join(', ')} or \`all\``;

/** The lines `help` adds for these commands. */
export const CHECKLIST_HELP = [
  `\`done <item>\` — tick an item of the tracker's checklist: ${ITEM_NAMES}, several separated by commas (the assigned CSE, a CSE of the pool, or a manager)`,
  '`undo <item>` — untick it again',
];

const words = (text: string) =>
  text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');

/**
 * The items one name stands for: those where every word of the name begins a word of the item
 * (`call held`, `logged`, `follow-up`), or the name without spaces begins the item's (`followup`).
 */
function itemsFor(name: string): string[] {
  const typed = words(name);
  // Too short to tell anything apart ("a", "up").
  if (typed.join('').length < 3) return [];
  return CHECKLIST.filter((item) => {
    const own = words(item);
    return typed.every((t) => own.some((w) => w.startsWith(t))) || own.join('').startsWith(typed.join(''));
  });
}

/** The items a command's argument names (several separated by commas); an error when one is unclear. */
export function checklistItemsNamed(argument: string): { items: string[] } | { error: string } {
  const names = argument
    .split(/[,;]/)
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (names.length === 0) return { error: `name the item, one of ${ITEM_NAMES}` };
  const items = new Set<string>();
  for (const name of names) {
    const found = name.toLowerCase() === 'all' ? [...CHECKLIST] : itemsFor(name);
    const shown = `"${neutralizeInline(name)}"`;
    if (found.length === 0) return { error: `${shown} is not an item of the checklist; name one of ${ITEM_NAMES}` };
    if (found.length > 1 && name.toLowerCase() !== 'all') {
      return {
        error: `${shown} could be ${found.map((i) => `\`${CHECKLIST_NAMES[i]}\``).join(' or ')}; name one of ${ITEM_NAMES}`,
      };
    }
    for (const item of found) items.add(item);
  }
  return { items: CHECKLIST.filter((item) => items.has(item)) };
}

export interface ChecklistContext {
  /** Items ticked in the bot's note as it stands, and when each was first seen ticked. */
  ticked: ReadonlySet<string>;
  tickedAt: Readonly<Record<string, string>>;
  /** The request's state before this pass's commands (asked only when there is a command), and whether the issue is closed. */
  state: () => State;
  closed: boolean;
  rolesOf: (username: string) => readonly Actor[];
}

export interface ChecklistOutcome {
  ticked: Set<string>;
  /** First-tick times: a commanded tick counts from its comment (the follow-up SLA reads "Call held"). */
  tickedAt: Record<string, string>;
  changed: boolean;
  replies: Array<{ command: Command; text: string }>;
}

/** Runs the `done`/`undo` commands in order over the checklist; other commands are left alone. */
export function runChecklistCommands(commands: readonly Command[], ctx: ChecklistContext): ChecklistOutcome {
  const out: ChecklistOutcome = {
    ticked: new Set(ctx.ticked),
    tickedAt: { ...ctx.tickedAt },
    changed: false,
    replies: [],
  };
  for (const command of commands) {
    const tick = CHECKLIST_COMMANDS[command.name];
    if (tick === undefined) continue;
    const refusal = refusalFor(command, ctx);
    if (refusal) {
      out.replies.push({ command, text: `I did not ${tick ? 'tick' : 'untick'} anything: ${refusal}` });
      continue;
    }
    const named = checklistItemsNamed(command.argument);
    if ('error' in named) {
      out.replies.push({ command, text: `I did not ${tick ? 'tick' : 'untick'} anything: ${named.error}.` });
      continue;
    }
    const changing = named.items.filter((item) => out.ticked.has(item) !== tick);
    for (const item of changing) {
      if (tick) {
        out.ticked.add(item);
        out.tickedAt[item] ??= command.at;
      } else {
        out.ticked.delete(item);
        delete out.tickedAt[item];
      }
    }
    out.changed ||= changing.length > 0;
    out.replies.push({ command, text: outcomeText(tick, named.items, changing, out.ticked) });
  }
  return out;
}

function refusalFor(command: Command, ctx: ChecklistContext): string | null {
  const state = ctx.state();
  if (ctx.closed) return `the request is closed (\`${state}\`). Reopen it first.`;
  if (!CHECKLIST_STATES.includes(state))
    return `the checklist starts once the request is accepted (it is \`${state}\`).`;
  const roles = ctx.rolesOf(command.author);
  if (!roles.some((r) => PEOPLE_WHO_RUN_IT.includes(r)))
    return 'only the assigned CSE, a CSE of the covering pool or a manager keeps the checklist.';
  return null;
}

function outcomeText(
  tick: boolean,
  named: readonly string[],
  changing: readonly string[],
  ticked: ReadonlySet<string>,
): string {
  const unchanged = named.filter((item) => !changing.includes(item));
  const parts = [
    ...(changing.length > 0 ? [`${tick ? 'ticked' : 'unticked'}: ${changing.join('; ')}.`] : []),
    ...(unchanged.length > 0 ? [`Already ${tick ? 'ticked' : 'open'}: ${unchanged.join('; ')}.`] : []),
  ];
  const missing = missingChecklist(ticked);
  parts.push(missing.length === 0 ? 'The checklist is complete.' : `Still open: ${missing.join('; ')}.`);
  return parts.join(' ');
}
