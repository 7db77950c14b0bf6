import { describe, expect, it } from 'vitest';
import type { RequestHistory } from '../../src/domain/request-history.js';
import { acceptDeadline, openBreaches, type ChecklistTimes } from '../../src/domain/sla.js';
import { weekendsOnlyConfig } from '../helpers/config.js';
import { historyFixture } from '../helpers/request-history.js';

// The example configuration keeps the default service levels: accept 2 business days, escalate
// 1 more, follow-up 2, stale 10. Region amr counts in New York time (EST, UTC-5, in late November).
const config = weekendsOnlyConfig();

function history(overrides: Partial<RequestHistory> = {}): RequestHistory {
  return historyFixture({
    iid: 7,
    title: 'Scale request: Acme',
    createdAt: '2026-11-20T20:00:00Z',
    updatedAt: '2026-11-20T21:00:00Z',
    assignees: ['casey.cse'],
    customer: 'Acme',
    state: 'assigned',
    // Friday 2026-11-20 16:00 New York.
    stateSince: '2026-11-20T21:00:00Z',
    reached: { new: '2026-11-20T20:00:00Z', assigned: '2026-11-20T21:00:00Z' },
    ...overrides,
  });
}

const at = (iso: string) => new Date(iso);
const kinds = (h: RequestHistory, now: string, checklist: ChecklistTimes | null = null) =>
  openBreaches(h, checklist, config, at(now)).map((b) => b.kind);

describe('openBreaches: accept and escalate', () => {
  it('is past the accept level exactly at Tuesday 16:00 New York, not one ms before', () => {
    expect(kinds(history(), '2026-11-24T20:59:59.999Z')).toEqual([]);
    const [breach, ...rest] = openBreaches(history(), null, config, at('2026-11-24T21:00:00Z'));
    expect(rest).toEqual([]);
    expect(breach).toEqual({
      kind: 'accept',
      iid: 7,
      title: 'Scale request: Acme',
      webUrl: 'https://gitlab.example/sales/requests/-/issues/7',
      since: '2026-11-20T21:00:00Z',
      due: '2026-11-24T21:00:00.000Z',
      key: 'accept:7:2026-11-20T21:00:00Z',
    });
  });

  it('escalates one business day later, keeping the accept breach', () => {
    expect(kinds(history(), '2026-11-25T20:59:59.999Z')).toEqual(['accept']);
    const breaches = openBreaches(history(), null, config, at('2026-11-25T21:00:00Z'));
    expect(breaches.map((b) => [b.kind, b.due, b.key])).toEqual([
      ['accept', '2026-11-24T21:00:00.000Z', 'accept:7:2026-11-20T21:00:00Z'],
      ['escalate', '2026-11-25T21:00:00.000Z', 'escalate:7:2026-11-20T21:00:00Z'],
    ]);
  });

  it('counts limit-reached as waiting for the CSE too', () => {
    const h = history({ state: 'limit-reached', reached: { 'limit-reached': '2026-11-20T21:00:00Z' } });
    expect(kinds(h, '2026-11-24T21:00:00Z')).toEqual(['accept']);
  });

  it('counts in the request region: Friday 16:00 Los Angeles is due Tuesday 16:00 Los Angeles', () => {
    const h = history({
      region: 'amr-west',
      segment: 'smb',
      stateSince: '2026-11-21T00:00:00Z',
      reached: { assigned: '2026-11-21T00:00:00Z' },
      updatedAt: '2026-11-21T00:00:00Z',
    });
    expect(kinds(h, '2026-11-24T23:59:59Z')).toEqual([]);
    expect(openBreaches(h, null, config, at('2026-11-25T00:00:00Z')).map((b) => b.due)).toEqual([
      '2026-11-25T00:00:00.000Z',
    ]);
  });

  it('restarts the clock when the request is assigned again', () => {
    // First assigned two weeks earlier; the assigned label was added again on Friday 20 (reassigned).
    const h = history({ reached: { assigned: '2026-11-02T15:00:00Z' }, stateSince: '2026-11-20T21:00:00Z' });
    expect(acceptDeadline(h, config)).toEqual({
      since: '2026-11-20T21:00:00Z',
      due: '2026-11-24T21:00:00.000Z',
      escalateAt: '2026-11-25T21:00:00.000Z',
    });
    // The old clock would be long past; the new one is not.
    expect(kinds(h, '2026-11-23T21:00:00Z')).toEqual([]);
    const breaches = openBreaches(h, null, config, at('2026-11-24T21:00:00Z'));
    expect(breaches.map((b) => b.key)).toEqual(['accept:7:2026-11-20T21:00:00Z']);
    // A different key from the first assignment's, so the new CSE gets their own reminder.
    const before = openBreaches(
      history({ reached: { assigned: '2026-11-02T15:00:00Z' }, stateSince: null }),
      null,
      config,
      at('2026-11-24T21:00:00Z'),
    );
    expect(before.map((b) => b.key)).toEqual(['accept:7:2026-11-02T15:00:00Z', 'escalate:7:2026-11-02T15:00:00Z']);
  });

  it('keeps the same key on every later run', () => {
    const keys = (now: string) => openBreaches(history(), null, config, at(now)).map((b) => b.key);
    expect(keys('2026-11-26T12:00:00Z')).toEqual(keys('2026-11-30T12:00:00Z'));
  });

  it('has no accept deadline before any assignment', () => {
    const h = history({
      state: 'new',
      stateSince: '2026-11-20T20:00:00Z',
      reached: { new: '2026-11-20T20:00:00Z' },
      assignees: [],
    });
    expect(acceptDeadline(h, config)).toBeNull();
    expect(kinds(h, '2026-11-25T21:00:00Z')).toEqual([]);
  });

  it('stops once accepted', () => {
    const h = history({
      state: 'accepted',
      stateSince: '2026-11-23T15:00:00Z',
      reached: { assigned: '2026-11-20T21:00:00Z', accepted: '2026-11-23T15:00:00Z' },
    });
    expect(kinds(h, '2026-11-26T21:00:00Z')).toEqual([]);
  });
});

describe('openBreaches: follow-up', () => {
  // Call held Monday 2026-11-23 10:00 New York: follow-up due Wednesday 10:00.
  const accepted = history({
    state: 'accepted',
    stateSince: '2026-11-21T15:00:00Z',
    updatedAt: '2026-11-23T15:00:00Z',
  });
  const held: ChecklistTimes = { callHeldAt: '2026-11-23T15:00:00Z', followUpSent: false };

  it('is due two business days after the call', () => {
    expect(kinds(accepted, '2026-11-25T14:59:59Z', held)).toEqual([]);
    expect(openBreaches(accepted, held, config, at('2026-11-25T15:00:00Z'))).toEqual([
      expect.objectContaining({
        kind: 'follow-up',
        since: '2026-11-23T15:00:00Z',
        due: '2026-11-25T15:00:00.000Z',
        key: 'follow-up:7:2026-11-23T15:00:00Z',
      }),
    ]);
    expect(kinds({ ...accepted, state: 'scheduled' }, '2026-11-25T15:00:00Z', held)).toEqual(['follow-up']);
  });

  it('is not due once the follow-up is sent, without a call, or without the tracker', () => {
    expect(kinds(accepted, '2026-11-27T15:00:00Z', { ...held, followUpSent: true })).toEqual([]);
    expect(kinds(accepted, '2026-11-27T15:00:00Z', { callHeldAt: null, followUpSent: false })).toEqual([]);
    expect(kinds(accepted, '2026-11-27T15:00:00Z', null)).toEqual([]);
  });

  it('only applies to engagements under way', () => {
    expect(kinds(history(), '2026-11-25T15:00:00Z', held)).toEqual(['accept']);
  });
});

describe('openBreaches: stale', () => {
  it('is due ten business days after the last thing a person did, in the states the CSE drives', () => {
    // Last human activity Friday 2026-11-06 10:00 New York → due Friday 2026-11-20 10:00. The bot's
    // own later writes (updatedAt) do not count.
    const h = history({
      state: 'accepted',
      stateSince: '2026-11-05T15:00:00Z',
      lastHumanActivity: '2026-11-06T15:00:00Z',
      updatedAt: '2026-11-19T15:00:00Z',
    });
    expect(kinds(h, '2026-11-20T14:59:59Z')).toEqual([]);
    expect(openBreaches(h, null, config, at('2026-11-20T15:00:00Z'))).toEqual([
      expect.objectContaining({
        kind: 'stale',
        since: '2026-11-06T15:00:00Z',
        due: '2026-11-20T15:00:00.000Z',
        key: 'stale:7:2026-11-06T15:00:00Z',
      }),
    ]);
    expect(kinds({ ...h, state: 'scheduled' }, '2026-11-20T15:00:00Z')).toEqual(['stale']);
  });

  it.each([
    ['waiting on its author', 'needs-info'],
    ['not qualified', 'not-qualified'],
    ['with no state', null],
  ] as const)('does not apply to a request %s', (_name, state) => {
    expect(kinds(history({ state, lastHumanActivity: '2026-11-06T15:00:00Z' }), '2026-12-31T15:00:00Z')).toEqual([]);
  });

  it('is not guessed when the request’s notes were not read', () => {
    expect(
      kinds(
        history({ state: 'accepted', lastHumanActivity: null, updatedAt: '2026-11-06T15:00:00Z' }),
        '2026-12-31T15:00:00Z',
      ),
    ).toEqual([]);
  });

  it('a forgotten assignment is an accept breach and an escalation, not a stale one', () => {
    const h = history({ lastHumanActivity: '2026-11-20T21:00:00Z' });
    expect(kinds(h, '2026-12-04T21:00:00Z')).toEqual(['accept', 'escalate']);
  });

  it('moves with new activity (a new key)', () => {
    const h = history({ state: 'accepted', lastHumanActivity: '2026-11-06T15:00:00Z' });
    expect(kinds({ ...h, lastHumanActivity: '2026-11-19T15:00:00Z' }, '2026-11-20T15:00:00Z')).toEqual([]);
  });
});

describe('openBreaches: final states still open', () => {
  const now = at('2026-12-31T12:00:00Z');
  const checklist = { callHeldAt: '2026-11-23T15:00:00Z', followUpSent: false };
  it('a completed request kept open for its checklist still owes the follow-up', () => {
    expect(openBreaches(history({ state: 'completed' }), checklist, config, now).map((b) => b.kind)).toContain(
      'follow-up',
    );
  });
  it('a declined request waiting for its reason goes stale', () => {
    expect(
      openBreaches(
        history({ state: 'declined', lastHumanActivity: '2026-11-23T15:00:00Z' }),
        checklist,
        config,
        now,
      ).map((b) => b.kind),
    ).toEqual(['stale']);
  });
});

describe('openBreaches: nothing to remind', () => {
  const now = '2026-12-31T12:00:00Z';
  it.each([
    ['a closed issue', history({ open: false, closedAt: '2026-11-21T12:00:00Z' })],
    [
      'a closed issue still labelled accepted',
      history({ open: false, state: 'accepted', closedAt: '2026-11-21T12:00:00Z' }),
    ],
    ['a withdrawn request the bot is about to close', history({ state: 'withdrawn' })],
    ['a closed-incomplete request the bot is about to close', history({ state: 'closed-incomplete' })],
    ['an issue that is no request', history({ form: null, segment: null, region: null })],
  ])('%s', (_name, h) => {
    expect(openBreaches(h, { callHeldAt: '2026-11-23T15:00:00Z', followUpSent: false }, config, at(now))).toEqual([]);
  });
});
