import { describe, expect, it } from 'vitest';
import { markerKey } from '../../src/domain/bot-note-marker.js';
import type { Config } from '../../src/domain/config.js';
import type { RequestHistory } from '../../src/domain/request-history.js';
import { planWaitingOnAuthor, waitingSince, type WaitingRequest } from '../../src/domain/waiting-on-author.js';
import { exampleConfig } from '../helpers/config.js';
import { historyFixture } from '../helpers/request-history.js';

/**
 * The example configuration: reminded after 10 business days waiting on the author, closed 5
 * business days after the reminder. Region amr: New York time, US holidays except Columbus Day and
 * Veterans Day (Wed 11 Nov 2026 is a working day, Thanksgiving Thu 26 Nov is not).
 *
 * The request: needs-info since Mon 9 Nov 15:01Z (10:01 NY), its author's last act its creation at
 * 15:00Z. Reminder due 10 business days later: Tue 10 (1) .. Fri 13 (4), Mon 16 .. Fri 20 (5-9),
 * Mon 23 (10) → Mon 23 Nov 15:01Z.
 */
const config = exampleConfig();
const SINCE = '2026-11-09T15:01:00Z';
const waiting = historyFixture({
  iid: 24,
  author: 'jordan.ae',
  createdAt: '2026-11-09T15:00:00Z',
  state: 'needs-info',
  stateSince: SINCE,
  lastHumanActivity: '2026-11-09T15:00:00Z',
});
const REMINDED = { key: markerKey(`waiting-on-author:${SINCE}`), createdAt: '2026-11-23T16:00:00Z' };
const CLOSING = { key: markerKey(`closed-waiting:${SINCE}`), createdAt: '2026-12-01T16:00:00Z' };
const plan = (history: RequestHistory, botNotes: WaitingRequest['botNotes'], now: string, cfg: Config = config) =>
  planWaitingOnAuthor([{ history, botNotes }], cfg, new Date(now)).map((s) => [s.action, s.at, s.notePosted]);

describe('requests waiting on their author', () => {
  it.each<[string, RequestHistory, WaitingRequest['botNotes'], string, unknown[]]>([
    ['not yet 10 business days', waiting, [], '2026-11-23T15:00:59Z', []],
    // Reminded at 15:01Z; closed if nothing happens 5 business days later: Tue 24 (1), Wed 25 (2),
    // (Thanksgiving), Fri 27 (3), Mon 30 (4), Tue 1 Dec (5) → Tue 1 Dec 15:01Z.
    [
      '10 business days: reminded once',
      waiting,
      [],
      '2026-11-23T15:01:00Z',
      [['remind', '2026-12-01T15:01:00.000Z', false]],
    ],
    // The reminder went out Mon 23 16:00Z: closing is due Tue 1 Dec 16:00Z (same count as above).
    ['reminded, not yet closing time', waiting, [REMINDED], '2026-12-01T15:59:59Z', []],
    [
      'reminded 5 business days ago: closed',
      waiting,
      [REMINDED],
      '2026-12-01T16:00:00Z',
      [['close', REMINDED.createdAt, false]],
    ],
    [
      'the closing note is there (a run stopped before closing): closed, no second note',
      waiting,
      [REMINDED, CLOSING],
      '2026-12-02T09:00:00Z',
      [['close', REMINDED.createdAt, true]],
    ],
    // The author commented on Wed 25 Nov: a new wait, whose reminder is due 10 business days later (in December).
    [
      'the author answered after the reminder: the wait starts again',
      { ...waiting, lastHumanActivity: '2026-11-25T15:00:00Z' },
      [REMINDED],
      '2026-12-02T09:00:00Z',
      [],
    ],
    ['not waiting on its author', { ...waiting, state: 'accepted' }, [], '2026-12-31T09:00:00Z', []],
    ['closed already', { ...waiting, open: false }, [], '2026-12-31T09:00:00Z', []],
    [
      'its notes were not read (activity unknown)',
      { ...waiting, lastHumanActivity: null },
      [],
      '2026-12-31T09:00:00Z',
      [],
    ],
  ])('%s', (_name, history, notes, now, expected) => {
    expect(plan(history, notes, now)).toEqual(expected);
  });

  it('does nothing when the configuration turns it off', () => {
    const off: Config = { ...config, sla: { ...config.sla, needsInfo: null } };
    expect(plan(waiting, [], '2026-12-31T09:00:00Z', off)).toEqual([]);
  });

  it('the wait begins with needs-info or the author’s last act, whichever is later', () => {
    expect(waitingSince(waiting)).toBe(SINCE);
    expect(waitingSince({ ...waiting, lastHumanActivity: '2026-11-12T10:00:00Z' })).toBe('2026-11-12T10:00:00Z');
  });
});
