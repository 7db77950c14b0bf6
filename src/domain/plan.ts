/**
 * A plan is data: the smallest set of writes that brings one issue to the state the bot decided.
 * A plan for an issue that already matches is empty, so applying it again writes nothing.
 */

export type NoteWrite =
  /** `internal`: an answer to an internal note stays internal. */
  | { action: 'create'; key: string; body: string; internal?: boolean }
  | { action: 'update'; key: string; noteId: number; body: string };

export interface Plan {
  iid: number;
  labels: { add: string[]; remove: string[] };
  /** Usernames the issue should be assigned to; null leaves assignees as they are. */
  assignees: string[] | null;
  /** Close or reopen the issue, in the same PUT as labels and assignees. */
  stateEvent: 'close' | 'reopen' | null;
  notes: NoteWrite[];
  /** Later copies of notes the bot keeps (two processes passed the issue at once), to delete. */
  deleteNotes: Array<{ key: string; noteId: number }>;
  /** Why, in one line per decision: for logs, `replay` and dry runs. */
  summary: string[];
  /** What the local engagement index should remember about this issue (workload, rotation). */
  engagement: EngagementRecord | null;
  /**
   * Other issues to reconcile after this one: open requests for the same account that do not yet
   * show the duplicate flag, so both sides link each other. Never the other way round once both
   * are flagged, so follow-ups cannot ping-pong.
   */
  followUps: number[];
  /** The CTA record to send to the CRM (accepted, not sent yet); null when nothing to send. */
  crm: { idempotencyKey: string; record: Record<string, string> } | null;
  /** What was decided about the request, for comparing two configurations (`simulate`); absent when it is no request. */
  decision?: Decision;
}

/** The outcome of one request's decision, in the terms a reviewer of a configuration change reads. */
export interface Decision {
  form: { id: string; version: number };
  /** Whether the configuration knows the form version the issue names. */
  versionKnown: boolean;
  state: string;
  qualification: 'qualified' | 'not-qualified' | 'incomplete';
  /** The detail of each failed gate. */
  reasons: string[];
  priority: string;
  flags: string[];
  assignee: string | null;
  /** The pool and strategy that chose the assignee, when one did. */
  pool: string | null;
  strategy: string | null;
  /** The problems reported to the author. */
  problems: string[];
}

export interface EngagementRecord {
  iid: number;
  open: boolean;
  state: string | null;
  assignee: string | null;
  accountKey: string | null;
  /** Set when a round-robin pool chose the assignee in this pass. */
  rotation: { pool: string; username: string } | null;
}

export function isEmptyPlan(plan: Plan): boolean {
  return (
    plan.labels.add.length === 0 &&
    plan.labels.remove.length === 0 &&
    plan.assignees === null &&
    plan.stateEvent === null &&
    plan.notes.length === 0 &&
    plan.deleteNotes.length === 0
  );
}

/** Each write the plan would make, in words (`reconcile --dry-run` prints them per issue). */
export function planWrites(plan: Plan): string[] {
  const labels = [...plan.labels.add.map((l) => `+${l}`), ...plan.labels.remove.map((l) => `-${l}`)];
  return [
    ...(labels.length > 0 ? [`labels ${labels.join(' ')}`] : []),
    ...(plan.assignees ? [`assign ${plan.assignees.join(', ') || 'nobody'}`] : []),
    ...(plan.stateEvent ? [plan.stateEvent] : []),
    ...plan.notes.map((n) => `${n.action} note ${n.key}`),
    ...plan.deleteNotes.map((n) => `delete note ${n.key} (#${n.noteId}, a later copy)`),
  ];
}

/** Writes the plan would make, counted the way the API sees them: one PUT for labels and assignees. */
export function countWrites(plan: Plan): number {
  const put =
    plan.labels.add.length > 0 || plan.labels.remove.length > 0 || plan.assignees !== null || plan.stateEvent !== null
      ? 1
      : 0;
  return put + plan.notes.length + plan.deleteNotes.length;
}
