import { noteMarker, readNoteMarker } from '../domain/bot-note-marker.js';
import { sameName } from '../domain/same-name.js';
import type { GitLabClient } from '../gitlab/client.js';

/** The key of the one note `simulate --post-to-mr` keeps on a merge request. */
export const CONFIG_CHANGE_NOTE = 'config-change';

/**
 * Posts the report as the token user's one note on the merge request, found by author and hidden
 * marker as the bot finds its request notes: a later pipeline (another commit) updates it instead of
 * adding another. Unchanged text writes nothing.
 */
export async function upsertMergeRequestNote(
  client: GitLabClient,
  botUsername: string,
  mrIid: number,
  text: string,
): Promise<'created' | 'updated' | 'unchanged'> {
  const body = `${noteMarker(CONFIG_CHANGE_NOTE)}\n${text}`;
  const notes = await client.mergeRequestNotes(mrIid);
  const mine = notes.find(
    (n) => !n.system && sameName(n.author.username, botUsername) && readNoteMarker(n.body)?.key === CONFIG_CHANGE_NOTE,
  );
  if (!mine) {
    await client.createMergeRequestNote(mrIid, body);
    return 'created';
  }
  if (mine.body.trimEnd() === body.trimEnd()) return 'unchanged';
  await client.editMergeRequestNote(mrIid, mine.id, body);
  return 'updated';
}
