/**
 * Every note the bot writes starts with a hidden marker, `<!-- scale-bot:KEY state=… -->`, so it
 * finds and edits its own notes instead of posting duplicates. Small per-issue state (who the bot
 * assigned, who was notified) rides along, base64url-encoded so no user-visible or comment-breaking
 * characters can appear in it.
 */

export type NoteState = Record<string, unknown>;

const MARKER = /^<!-- scale-bot:([a-z0-9][a-z0-9:._-]*)(?: state=([A-Za-z0-9_-]*))? -->/;

function toBase64Url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(encoded: string): string {
  const binary = atob(encoded.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** A key as markers carry it: lowercase letters, digits and `:._-` (anything else becomes `-`). */
export function markerKey(key: string): string {
  return key
    .toLowerCase()
    .replace(/[^a-z0-9:._-]/g, '-')
    .replace(/^[^a-z0-9]+/, '');
}

export function noteMarker(key: string, state?: NoteState): string {
  key = markerKey(key);
  if (!state || Object.keys(state).length === 0) return `<!-- scale-bot:${key} -->`;
  // Keys in a fixed order: the same state must always read the same, or an unchanged note would be rewritten.
  const ordered = Object.fromEntries(Object.entries(state).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `<!-- scale-bot:${key} state=${toBase64Url(JSON.stringify(ordered))} -->`;
}

export function readNoteMarker(body: string): { key: string; state: NoteState } | null {
  const m = MARKER.exec(body);
  if (!m) return null;
  let state: NoteState = {};
  if (m[2]) {
    try {
      const parsed: unknown = JSON.parse(fromBase64Url(m[2]));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) state = parsed as NoteState;
    } catch {
      // A damaged marker still identifies the note; its state starts afresh.
    }
  }
  return { key: m[1]!, state };
}
