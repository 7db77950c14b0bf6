import { describe, expect, it } from 'vitest';
import { markerKey, noteMarker, readNoteMarker } from '../../src/domain/bot-note-marker.js';

describe('bot note markers', () => {
  it('carry their state both ways, and the same state in any key order gives the same marker', () => {
    const marker = noteMarker('request', { lastNote: 5, closed: true, timeline: [{ b: 1, a: 2 }] });
    expect(noteMarker('request', { closed: true, timeline: [{ b: 1, a: 2 }], lastNote: 5 })).toBe(marker);
    expect(readNoteMarker(`${marker}\nbody`)).toEqual({
      key: 'request',
      state: { closed: true, lastNote: 5, timeline: [{ b: 1, a: 2 }] },
    });
  });

  it.each([
    ['Reply-12', 'reply-12'],
    ['assigned-@drew.cse', 'assigned--drew.cse'],
    ['--x', 'x'],
  ])('key %j is written as %j', (key, written) => {
    expect(markerKey(key)).toBe(written);
    expect(noteMarker(key)).toBe(`<!-- scale-bot:${written} -->`);
  });

  it('a damaged state still identifies the note', () => {
    expect(readNoteMarker('<!-- scale-bot:request state=bm90IGpzb24 -->\nx')).toEqual({ key: 'request', state: {} });
    expect(readNoteMarker('no marker')).toBeNull();
  });
});
