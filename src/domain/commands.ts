import type { HumanNote } from './snapshot.js';
import type { State } from './workflow.js';

/**
 * `@<bot> <command> [argument]` in people's comments. Only a line that starts with the mention
 * counts, outside code blocks and quotes, one command per comment; a comment is read once (by id),
 * so editing it does not run its command again.
 */

export interface Command {
  noteId: number;
  author: string;
  at: string;
  name: string;
  argument: string;
  /** Written in an internal note: answered in one. */
  internal: boolean;
}

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

export function findCommands(notes: readonly HumanNote[], botUsername: string, afterNoteId: number): Command[] {
  const mention = new RegExp(
    `^@${botUsername.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+([a-z-]+)\\b[ \\t]*(.*)$`,
    'i',
  );
  const commands: Command[] = [];
  for (const note of notes) {
    if (note.id <= afterNoteId) continue;
    let fence: string | null = null;
    for (const line of note.body.replace(/\r\n?/g, '\n').split('\n')) {
      const open = /^ {0,3}(`{3,}|~{3,})/.exec(line);
      if (fence !== null) {
        if (open && open[1]![0] === fence[0]) fence = null;
        continue;
      }
      if (open) {
        fence = open[1]!;
        continue;
      }
      const m = mention.exec(line.trim());
      if (!m || /^\s*>/.test(line)) continue;
      commands.push({
        noteId: note.id,
        author: note.author,
        at: note.createdAt,
        name: m[1]!.toLowerCase(),
        argument: m[2]!.trim(),
        internal: note.internal ?? false,
      });
      break;
    }
  }
  return commands;
}

/** The reason given in a `decline` command, or the comment itself when it is not one. */
export function reasonFrom(body: string, botUsername: string): string {
  const m = new RegExp(`^\\s*@${botUsername.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+decline\\b\\s*`, 'i').exec(body);
  return (m ? body.slice(m[0].length) : body).trim();
}
