import type { Logger } from 'pino';
import type { Plan } from '../domain/plan.js';
import type { GitLabClient } from './client.js';
import { sameName } from '../domain/same-name.js';
import { AssigneeRefusedError, GitLabHttpError } from './errors.js';

export interface ApplyResult {
  writes: number;
  /** One line per write, for `replay` output and logs. */
  done: string[];
}

/**
 * Applies a plan with the fewest calls: labels and assignees in one PUT (relative label changes,
 * so a person's concurrent label edits survive), then each note write. Notification notes go
 * first, so a crash never records someone as told who was not.
 */
export async function applyPlan(client: GitLabClient, plan: Plan, logger: Logger): Promise<ApplyResult> {
  const done: string[] = [];
  if (
    plan.labels.add.length > 0 ||
    plan.labels.remove.length > 0 ||
    plan.assignees !== null ||
    plan.stateEvent !== null
  ) {
    const assigneeIds =
      plan.assignees === null ? undefined : await Promise.all(plan.assignees.map((u) => client.userId(u)));
    const edited = await client.editIssue(plan.iid, {
      addLabels: plan.labels.add,
      removeLabels: plan.labels.remove,
      ...(assigneeIds === undefined ? {} : { assigneeIds }),
      ...(plan.stateEvent === null ? {} : { stateEvent: plan.stateEvent }),
    });
    // GitLab answers 200 without an assignee it may not assign: the note must not claim it did.
    const refused = (plan.assignees ?? []).filter((u) => !edited.assignees.some((a) => sameName(a.username, u)));
    if (refused.length > 0) throw new AssigneeRefusedError(refused);
    done.push(
      `PUT issue ${plan.iid}: +[${plan.labels.add.join(', ')}] -[${plan.labels.remove.join(', ')}]${plan.assignees ? ` assignees=[${plan.assignees.join(', ')}]` : ''}${plan.stateEvent ? ` ${plan.stateEvent}` : ''}`,
    );
  }
  const ordered = [...plan.notes].sort((a, b) => Number(a.key === 'request') - Number(b.key === 'request'));
  for (const note of ordered) {
    if (note.action === 'create') {
      const created = await client.createNote(plan.iid, note.body, note.internal ?? false);
      done.push(`POST ${note.internal ? 'internal ' : ''}note ${note.key} (#${created.id})`);
    } else {
      await client.editNote(plan.iid, note.noteId, note.body);
      done.push(`PUT note ${note.key} (#${note.noteId})`);
    }
  }
  for (const copy of plan.deleteNotes) {
    try {
      await client.deleteNote(plan.iid, copy.noteId);
    } catch (err) {
      // Already gone (the other pass removed it too): what the plan wanted.
      if (!(err instanceof GitLabHttpError && err.status === 404)) throw err;
    }
    done.push(`DELETE note ${copy.key} (#${copy.noteId})`);
  }
  logger.debug({ iid: plan.iid, writes: done.length }, 'plan applied');
  return { writes: done.length, done };
}
