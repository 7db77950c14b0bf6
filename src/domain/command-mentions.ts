import type { HumanNote } from './snapshot.js';

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

/** The bot's mention as a regular expression source. */
const mentionOf = (botUsername: string) => `@${botUsername.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;

export function findCommands(notes: readonly HumanNote[], botUsername: string, afterNoteId: number): Command[] {
  const mention = new RegExp(`^${mentionOf(botUsername)}\\s+([a-z-]+)\\b[ \\t]*(.*)$`, 'i');
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
  const m = new RegExp(`^\\s*${mentionOf(botUsername)}\\s+decline\\b\\s*`, 'i').exec(body);
  return (m ? body.slice(m[0].length) : body).trim();
}
