import { describe, expect, it } from 'vitest';
import { effectiveTimeline, labelHistoryHasReverts } from '../../src/domain/effective-timeline.js';
import type { LabelEvent } from '../../src/domain/snapshot.js';

/**
 * Label histories as GitLab lists them (resource label events), and the transitions the bot
 * accepted. `ev(id, minute, label, user)`: an add of `engagement::<label>` at 2026-11-16 10:<minute>Z.
 */
const at = (minute: number) => `2026-11-16T10:${String(minute).padStart(2, '0')}:00Z`;
const ev = (id: number, minute: number, state: string, user: string, action: 'add' | 'remove' = 'add'): LabelEvent => ({
  id,
  user,
  createdAt: at(minute),
  label: `engagement::${state}`,
  action,
});
const BOT = 'scale-bot';
const rebuild = (events: LabelEvent[]) =>
  effectiveTimeline({ recorded: null, labelEvents: events, scope: 'engagement', botUsername: BOT });
const states = (events: LabelEvent[]) => rebuild(events).map((t) => `${t.state}@${t.at.slice(14, 16)}`);

describe('effectiveTimeline rebuilt from the label history', () => {
  it.each<[string, LabelEvent[], string[]]>([
    [
      'intake only: the bot’s adds',
      [ev(1, 0, 'needs-info', BOT), ev(2, 5, 'assigned', BOT)],
      ['needs-info@00', 'assigned@05'],
    ],
    // The AE's accept at :10 was reverted by the bot at :11 (back to assigned): it never happened.
    [
      'a refused move',
      [
        ev(1, 0, 'assigned', BOT),
        ev(2, 10, 'accepted', 'alex.ae'),
        ev(3, 11, 'assigned', BOT),
        ev(4, 30, 'accepted', 'drew.cse'),
      ],
      ['assigned@00', 'accepted@30'],
    ],
    // The CSE's accept at :10 stood; the AE's completed at :20 was reverted to accepted at :21.
    [
      'a later move refused, the earlier one kept',
      [
        ev(1, 0, 'assigned', BOT),
        ev(2, 10, 'accepted', 'drew.cse'),
        ev(3, 20, 'completed', 'alex.ae'),
        ev(4, 21, 'accepted', BOT),
      ],
      ['assigned@00', 'accepted@10'],
    ],
    // Two refused in a row while the bot was away: it put back the state before both.
    [
      'two moves refused at once',
      [
        ev(1, 0, 'assigned', BOT),
        ev(2, 10, 'accepted', 'alex.ae'),
        ev(3, 12, 'scheduled', 'alex.ae'),
        ev(4, 15, 'assigned', BOT),
      ],
      ['assigned@00'],
    ],
    // Sent back by a manager and accepted again: both accepted, reached first at :10.
    [
      'a revert by a person is a move',
      [
        ev(1, 0, 'assigned', BOT),
        ev(2, 10, 'accepted', 'drew.cse'),
        ev(3, 20, 'assigned', 'harper.mgr'),
        ev(4, 30, 'accepted', 'drew.cse'),
      ],
      ['assigned@00', 'accepted@10', 'assigned@20', 'accepted@30'],
    ],
    // The same add listed twice (replayed) and an add of the state it is already in: one transition.
    [
      'replayed and repeated adds',
      [
        ev(1, 0, 'assigned', BOT),
        ev(2, 10, 'accepted', 'drew.cse'),
        ev(2, 10, 'accepted', 'drew.cse'),
        ev(3, 12, 'accepted', 'casey.cse'),
      ],
      ['assigned@00', 'accepted@10'],
    ],
    // Listed out of order: taken by time, so the revert still follows the move it undid.
    [
      'out of order',
      [
        ev(4, 30, 'accepted', 'drew.cse'),
        ev(3, 11, 'assigned', BOT),
        ev(1, 0, 'assigned', BOT),
        ev(2, 10, 'accepted', 'alex.ae'),
      ],
      ['assigned@00', 'accepted@30'],
    ],
    // Closed by its author after acceptance: the bot records withdrawn; the acceptance stood.
    [
      'the bot’s own move after people’s',
      [ev(1, 0, 'assigned', BOT), ev(2, 10, 'accepted', 'drew.cse'), ev(3, 40, 'withdrawn', BOT)],
      ['assigned@00', 'accepted@10', 'withdrawn@40'],
    ],
    // Not judged yet (no bot add after it): it stands.
    [
      'a move the bot has not judged yet',
      [ev(1, 0, 'assigned', BOT), ev(2, 10, 'accepted', 'drew.cse')],
      ['assigned@00', 'accepted@10'],
    ],
    // Removals, other scopes and unknown states are no transitions.
    [
      'removals and other labels',
      [
        ev(1, 0, 'assigned', BOT),
        ev(2, 10, 'assigned', 'drew.cse', 'remove'),
        { id: 3, user: 'drew.cse', createdAt: at(11), label: 'priority::high', action: 'add' },
        ev(4, 12, 'maybe', 'drew.cse'),
      ],
      ['assigned@00'],
    ],
  ])('%s', (_name, events, expected) => {
    expect(states(events)).toEqual(expected);
  });

  it('names who made each move', () => {
    expect(
      rebuild([
        ev(1, 0, 'assigned', BOT),
        ev(2, 10, 'accepted', 'alex.ae'),
        ev(3, 11, 'assigned', BOT),
        ev(4, 30, 'accepted', 'drew.cse'),
      ]),
    ).toEqual([
      { state: 'assigned', at: at(0), by: BOT },
      { state: 'accepted', at: at(30), by: 'drew.cse' },
    ]);
  });

  it('knows a refused move when it sees one (then the bot’s note is read)', () => {
    const sources = (events: LabelEvent[]) => ({ labelEvents: events, scope: 'engagement', botUsername: BOT });
    expect(
      labelHistoryHasReverts(
        sources([ev(1, 0, 'assigned', BOT), ev(2, 10, 'accepted', 'alex.ae'), ev(3, 11, 'assigned', BOT)]),
      ),
    ).toBe(true);
    expect(
      labelHistoryHasReverts(
        sources([ev(1, 0, 'assigned', BOT), ev(2, 10, 'accepted', 'drew.cse'), ev(3, 40, 'withdrawn', BOT)]),
      ),
    ).toBe(false);
    expect(labelHistoryHasReverts(sources([ev(1, 0, 'assigned', BOT), ev(2, 10, 'accepted', 'drew.cse')]))).toBe(false);
  });
});

describe('effectiveTimeline from the bot’s record', () => {
  const refusedAccept = [ev(1, 0, 'assigned', BOT), ev(2, 10, 'accepted', 'alex.ae'), ev(3, 11, 'assigned', BOT)];

  it('is the record when there is one, whatever the labels say', () => {
    const recorded = [
      { state: 'assigned', at: at(0), by: BOT },
      { state: 'accepted', at: at(45), by: 'drew.cse' },
    ];
    expect(effectiveTimeline({ recorded, labelEvents: refusedAccept, scope: 'engagement', botUsername: BOT })).toEqual(
      recorded,
    );
  });

  it('sorts it, drops repeats and damaged entries', () => {
    const recorded = [
      { state: 'accepted', at: at(45), by: 'drew.cse' },
      { state: 'assigned', at: at(0), by: BOT },
      { state: 'accepted', at: at(50), by: 'drew.cse' },
      { state: 'nope', at: at(1) },
      'junk',
      { state: 'scheduled', at: 'yesterday' },
    ];
    expect(effectiveTimeline({ recorded, labelEvents: null, scope: 'engagement', botUsername: BOT })).toEqual([
      { state: 'assigned', at: at(0), by: BOT },
      { state: 'accepted', at: at(45), by: 'drew.cse' },
    ]);
  });

  it('an empty record (a note from before the bot kept one) falls back to the labels', () => {
    expect(
      effectiveTimeline({ recorded: [], labelEvents: refusedAccept, scope: 'engagement', botUsername: BOT }),
    ).toEqual([{ state: 'assigned', at: at(0), by: BOT }]);
  });
});
