import { markerKey, noteMarker } from './bot-note-marker.js';
import type { NoteWrite, Plan } from './plan.js';
import type { BotNote } from './snapshot.js';
import { fitText, NOTE_MAX_CHARS } from './text-limits.js';

/** The bot's own notes on an issue: found by key, written once, or kept current. */

export function findNote(notes: readonly BotNote[], key: string): BotNote | undefined {
  // The oldest note with the key is the one the bot keeps; later copies (a crash mid-write) are ignored.
  return notes.filter((n) => n.key === key).sort((a, b) => a.id - b.id)[0];
}

/**
 * Two passes over one issue at once (the sweep in CI beside the service) can each create the same
 * note. The oldest is the one the bot keeps (see `findNote`); the later copies are deleted, so no
 * stale copy stays behind.
 */
export function laterCopies(notes: readonly BotNote[]): Plan['deleteNotes'] {
  const kept = new Map<string, number>();
  for (const n of notes) kept.set(n.key, Math.min(kept.get(n.key) ?? n.id, n.id));
  return notes.filter((n) => kept.get(n.key) !== n.id).map((n) => ({ key: n.key, noteId: n.id }));
}

/**
 * A note posted once under its key (`key` as given to `markerKey`); null when it is there already.
 * `text` may be a function, so a note that is there already is not rendered again.
 */
export function noteOnce(
  notes: readonly BotNote[],
  key: string,
  text: string | (() => string),
  options: { internal?: boolean | undefined } = {},
): NoteWrite | null {
  const marked = markerKey(key);
  if (findNote(notes, marked)) return null;
  const body = `${noteMarker(marked)}\n${typeof text === 'string' ? text : text()}`;
  return { action: 'create', key: marked, body, ...(options.internal ? { internal: true } : {}) };
}

/** The note kept current: created, or updated when its text changed. */
export function upsertNote(plan: Plan, existing: BotNote | undefined, key: string, note: string): void {
  // Compared as GitLab will hold it, so a note that had to be cut is not written again every pass.
  const body = fitText(note, NOTE_MAX_CHARS);
  if (!existing) plan.notes.push({ action: 'create', key, body });
  else if (existing.body.trimEnd() !== body.trimEnd())
    plan.notes.push({ action: 'update', key, noteId: existing.id, body });
}
