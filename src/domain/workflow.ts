import type { Config } from './config.js';
import { sameName } from './same-name.js';

/**
 * The engagement workflow on scoped `engagement::` labels: one table of states and transitions that
 * the code enforces and `docs/workflow.md` is generated from, so the two cannot disagree.
 */

export const STATES = [
  'new',
  'needs-info',
  'not-qualified',
  'assigned',
  'limit-reached',
  'accepted',
  'scheduled',
  'completed',
  'declined',
  'withdrawn',
  'closed-incomplete',
] as const;
export type State = (typeof STATES)[number];

/** States in which the issue is closed. */
export const CLOSED_STATES: readonly State[] = ['completed', 'declined', 'withdrawn', 'closed-incomplete'];
/** States the bot sets itself from the request's content (intake). */
export const INTAKE_STATES: readonly State[] = ['new', 'needs-info', 'not-qualified', 'assigned', 'limit-reached'];
export const OPEN_STATES: readonly State[] = STATES.filter((s) => !CLOSED_STATES.includes(s));

/** Who may make a transition: the bot itself, or people by their role for this request. */
export type Actor = 'bot' | 'assigned-cse' | 'pool-cse' | 'manager' | 'author';

export interface Transition {
  from: readonly State[];
  to: State;
  by: readonly Actor[];
  /** What the bot does when the transition happens. */
  effect: string;
}

/** Who runs an engagement (and keeps its checklist). */
export const PEOPLE_WHO_RUN_IT: readonly Actor[] = ['assigned-cse', 'pool-cse', 'manager'];
const ENGAGED: readonly State[] = ['assigned', 'limit-reached', 'accepted', 'scheduled'];

export const TRANSITIONS: readonly Transition[] = [
  {
    from: ['new', 'not-qualified', 'assigned'],
    to: 'needs-info',
    by: ['bot'],
    effect: 'lists what is missing in its note, addressed to the author',
  },
  {
    from: ['new', 'needs-info', 'assigned'],
    to: 'not-qualified',
    by: ['bot'],
    effect: 'explains which qualification rule failed',
  },
  {
    from: ['new', 'needs-info', 'not-qualified'],
    to: 'assigned',
    by: ['bot'],
    effect: 'assigns the covering CSE and tells them once',
  },
  {
    from: ['new', 'needs-info', 'not-qualified'],
    to: 'limit-reached',
    by: ['bot'],
    effect: 'assigns the CSE and flags the account’s earlier engagements',
  },
  {
    from: ['assigned', 'limit-reached'],
    to: 'accepted',
    by: PEOPLE_WHO_RUN_IT,
    effect: 'adds the CTA record and the post-call checklist to the tracker note',
  },
  { from: ['accepted'], to: 'scheduled', by: PEOPLE_WHO_RUN_IT, effect: 'records the call in the tracker timeline' },
  {
    from: ['accepted', 'scheduled'],
    to: 'completed',
    by: PEOPLE_WHO_RUN_IT,
    effect: 'closes the issue with a completion summary once the checklist is done; otherwise lists what is missing',
  },
  {
    from: ENGAGED,
    to: 'declined',
    by: PEOPLE_WHO_RUN_IT,
    effect: 'closes the issue with the reason, addressed to the author (asks for one first)',
  },
  { from: OPEN_STATES, to: 'withdrawn', by: ['author', 'manager'], effect: 'closes the issue' },
  {
    from: OPEN_STATES,
    to: 'closed-incomplete',
    by: ['bot'],
    effect:
      'records an issue closed by hand before completion, with what was missing; or closes one left waiting on its author past `sla.needsInfo` (`scale-bot remind`, after one reminder), saying how to reopen it',
  },
];

export interface ActorContext {
  username: string;
  isBot: boolean;
  isAuthor: boolean;
  isAssignee: boolean;
}

/** The roles this person holds for this request, from the configuration's people and pools. */
export function actorRoles(
  actor: ActorContext,
  config: Config,
  segment: string | null,
  region: string | null,
): Actor[] {
  if (actor.isBot) return ['bot'];
  const roles: Actor[] = [];
  const person = config.person(actor.username);
  if (actor.isAuthor) roles.push('author');
  if (person?.roles.includes('manager')) roles.push('manager');
  if (person?.roles.includes('cse')) {
    if (actor.isAssignee) roles.push('assigned-cse');
    const pool = config.routing.pools.find((p) => p.segment === segment && p.region === region);
    if (pool?.members.some((m) => sameName(m, actor.username))) roles.push('pool-cse');
  }
  return roles;
}

export type TransitionCheck =
  { allowed: true; transition: Transition } | { allowed: false; reason: string; instead: string };

const ACTOR_NAMES: Record<Actor, string> = {
  bot: 'the bot',
  'assigned-cse': 'the assigned CSE',
  'pool-cse': 'a CSE of the covering pool',
  manager: 'a manager',
  author: 'the account owner who filed it',
};

/** Whether `roles` may move a request from `from` to `to`, and if not, why and what to do instead. */
export function checkTransition(from: State, to: State, roles: readonly Actor[]): TransitionCheck {
  const candidates = TRANSITIONS.filter((t) => t.to === to && t.from.includes(from));
  if (candidates.length === 0) {
    const next = TRANSITIONS.filter((t) => t.from.includes(from) && !t.by.includes('bot')).map((t) => `\`${t.to}\``);
    return {
      allowed: false,
      reason: `a request cannot go from \`${from}\` to \`${to}\``,
      instead: next.length > 0 ? `from \`${from}\` it can go to ${unique(next).join(', ')}` : `\`${from}\` is final`,
    };
  }
  // A manager may make any transition the workflow allows.
  const transition = candidates.find((t) => roles.includes('manager') || t.by.some((b) => roles.includes(b)));
  if (transition) return { allowed: true, transition };
  const who = unique(candidates.flatMap((t) => t.by).map((b) => ACTOR_NAMES[b]));
  return {
    allowed: false,
    reason: `only ${who.join(' or ')} can move a request to \`${to}\``,
    instead: who.includes('the bot') ? 'edit the request so the bot can move it' : `ask ${who[0]} to do it`,
  };
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/** The Mermaid state diagram of the table above (GitLab renders Mermaid in Markdown). */
export function workflowMermaid(): string {
  const lines = ['stateDiagram-v2', '    [*] --> new: request opened from a template'];
  for (const t of TRANSITIONS) {
    const by = t.by.map((b) => ACTOR_NAMES[b]).join(' / ');
    for (const from of t.from) lines.push(`    ${id(from)} --> ${id(t.to)}: ${by}`);
  }
  for (const s of CLOSED_STATES) lines.push(`    ${id(s)} --> [*]`);
  return lines.join('\n');
}

/** Mermaid state ids cannot contain '-'. */
function id(state: State): string {
  return state.replace(/-/g, '_');
}

export function workflowDoc(): string {
  const rows = TRANSITIONS.map(
    (t) =>
      `| ${t.from.map((f) => `\`${f}\``).join(', ')} | \`${t.to}\` | ${t.by.map((b) => ACTOR_NAMES[b]).join(', ')} | ${t.effect} |`,
  );
  return [
    '# The engagement workflow',
    '',
    '<!-- Generated from src/domain/workflow.ts by `scale-bot workflow --write`; a test fails when it drifts. -->',
    '',
    'Each request carries exactly one scoped `engagement::<state>` label. The bot sets the intake states',
    'from the request itself; people move an assigned engagement forward with labels, or with commands in',
    'comments (`@scale-bot accept`, …), which are judged the same way. A transition the',
    'workflow does not allow, or one made by someone not allowed to, is reverted by the bot with a short',
    'note saying why and what to do instead.',
    '',
    '```mermaid',
    workflowMermaid(),
    '```',
    '',
    '| from | to | who | what the bot does |',
    '|---|---|---|---|',
    ...rows,
    '',
    `Closed states: ${CLOSED_STATES.map((s) => `\`${s}\``).join(', ')}. A reopened issue returns to its last open state.`,
    '',
  ].join('\n');
}
