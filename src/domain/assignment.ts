import type { Assessment } from './assess.js';
import type { Plan } from './plan.js';
import type { AssignmentView, RequestNoteState } from './request-note.js';
import { route, type RouteDecision } from './route.js';
import { sameName } from './same-name.js';

/**
 * Who has the request: a person's choice is kept; the bot's own choice is sticky; otherwise the
 * request is routed. The assignee the bot chose learns of it exactly once.
 */

/** Who chose the current assignee. */
export interface Ownership {
  /** Whom the bot assigned, as the issue shows it (or, failing that, as its note remembers). */
  botAssigned: string | undefined;
  /** The note remembers that same assignment (and so its reason). */
  remembered: boolean;
  /** A person chose the assignees. */
  byHuman: boolean;
}

export function ownership({ issue, memory, botUsername }: Assessment): Ownership {
  // Who chose: the bot's own record, else GitLab's "assigned to" system note.
  const botChose = (u: string) =>
    sameName(memory.assigned, u) || sameName(issue.assignedBy[u.toLowerCase()], botUsername);
  const soleAssignee = issue.assignees.length === 1 ? issue.assignees[0]! : undefined;
  // The issue is the truth: when the bot chose the sole assignee, that is whom it assigned, even
  // if its note remembers another (two passes at once, each routing with its own view of the load).
  const botAssigned = soleAssignee && botChose(soleAssignee) ? soleAssignee : memory.assigned;
  return {
    botAssigned,
    remembered: sameName(memory.assigned, botAssigned),
    byHuman: issue.assignees.length > 0 && !(soleAssignee && botChose(soleAssignee)),
  };
}

/** The routing intake decides on: none past intake, or while the request is not ready for a CSE. */
export function intakeRouting(a: Assessment, own: Ownership): RouteDecision | null {
  const { issue, request, config, workload, today } = a;
  if (a.lifecycle || a.notQualified || a.needsInfo) return null;
  if (own.byHuman) return route(request, config, workload, today, { assignees: issue.assignees, byHuman: true });
  if (own.botAssigned && issue.assignees.length === 1)
    return {
      assignee: issue.assignees[0]!,
      via: 'kept',
      pool: null,
      strategy: null,
      reason: `kept the earlier assignment of ${own.botAssigned}`,
      skipped: [],
    };
  return route(request, config, workload, today);
}

export interface Assigned {
  /** Whom routing chose, if anyone. */
  assignee: string | null;
  /** This pass assigns them (they are not the assignee yet). */
  assignNow: boolean;
}

/** Assignees: set only when the bot routes to someone who is not already the assignee. */
export function planAssignees(plan: Plan, { issue }: Assessment, routing: RouteDecision | null): Assigned {
  const assignee = routing?.assignee ?? null;
  const assignNow = assignee !== null && routing!.via !== 'kept' && !issue.assignees.some((a) => sameName(a, assignee));
  if (assignNow) {
    plan.assignees = [assignee];
    plan.summary.push(`assign ${assignee}: ${routing!.reason}`);
  } else if (routing) plan.summary.push(`assignment: ${routing.reason}`);
  return { assignee, assignNow };
}

export interface AssignmentRecord {
  /** What the request note remembers of the assignment. */
  memory: Partial<RequestNoteState>;
  /** What the request note says of it. */
  view: AssignmentView | null;
  /** Whom to tell of their assignment in a note of its own (the request note cannot mention them). */
  tell: string | null;
}

/**
 * What the note records and says about the assignment comes from stable state, so a later pass that
 * merely keeps the assignment renders the very same note (and writes nothing).
 */
export function assignmentRecord(
  a: Assessment,
  own: Ownership,
  routing: RouteDecision | null,
  { assignee, assignNow }: Assigned,
): AssignmentRecord {
  const { memory, note } = a;
  const notified = new Set((memory.notified ?? []).map((u) => u.toLowerCase()));
  const assignedByBot = assignNow ? assignee : own.byHuman ? undefined : own.botAssigned;
  // Whoever the bot assigned learns of it exactly once, also when a crash came between the
  // assignment and the note that tells them.
  const tell =
    assignedByBot !== undefined && assignedByBot !== null && !notified.has(assignedByBot.toLowerCase())
      ? assignedByBot
      : null;
  const mentionInRequestNote = tell !== null && note === undefined;
  if (tell !== null) notified.add(tell.toLowerCase());
  // Why, as recorded when the bot chose: only for the assignee the note remembers.
  const kept = Boolean(assignedByBot) && own.remembered;
  const reason = assignNow ? routing!.reason : kept ? memory.reason : undefined;
  const skipped = assignNow ? skippedOf(routing!) : kept ? (memory.skipped ?? []) : [];
  const mentioned = mentionInRequestNote ? tell : note ? memory.mentioned : undefined;
  return {
    memory: {
      ...(assignedByBot ? { assigned: assignedByBot } : {}),
      ...(assignedByBot && reason ? { reason } : {}),
      ...(assignedByBot && skipped.length > 0 ? { skipped } : {}),
      ...(mentioned ? { mentioned } : {}),
      ...(notified.size > 0 ? { notified: [...notified].sort() } : {}),
    },
    view: assignmentView(a, own, routing, { assignedByBot, reason, skipped, mentioned }),
    tell: mentionInRequestNote ? null : tell,
  };
}

function assignmentView(
  { issue }: Assessment,
  own: Ownership,
  routing: RouteDecision | null,
  r: { assignedByBot: string | null | undefined; reason?: string; skipped: string[]; mentioned?: string | null },
): AssignmentView | null {
  if (own.byHuman)
    return { assignee: issue.assignees.join(', '), mention: false, reason: 'assigned by a person', skipped: [] };
  if (r.assignedByBot)
    return {
      assignee: r.assignedByBot,
      mention: sameName(r.mentioned, r.assignedByBot),
      reason: r.reason ?? 'assigned by the bot',
      skipped: r.skipped,
    };
  if (routing && !routing.assignee)
    return { assignee: null, mention: false, reason: routing.reason, skipped: skippedOf(routing) };
  return null;
}

const skippedOf = (routing: RouteDecision) => routing.skipped.map((x) => `${x.username}: ${x.detail}`);
