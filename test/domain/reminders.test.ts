import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { noteMarker } from '../../src/domain/bot-note-marker.js';
import { compileConfig, type Config } from '../../src/domain/config.js';
import {
  planReminders,
  recipientsFor,
  sentKeys,
  type ReminderPlan,
  type ReminderRequest,
} from '../../src/domain/reminders.js';
import type { RequestHistory } from '../../src/domain/request-history.js';
import { openBreaches, type Breach } from '../../src/domain/sla.js';
import { reminderNoteBody } from '../../src/render/reminders.js';
import { EXAMPLE_CONFIG_PATH, weekendsOnlyConfig } from '../helpers/config.js';
import { historyFixture } from '../helpers/request-history.js';

/**
 * The example configuration: default service levels (accept 2 business days, escalate 1 more,
 * follow-up 2, stale 10), quiet hours 18:00–08:00, business days only. People's time zones come
 * from their first region: casey.cse, harper.mgr (amr) and emery.cse (amr-east) are in New York,
 * finley.cse (amr-west) in Los Angeles. Late November 2026: New York is UTC-5, Los Angeles UTC-8.
 */
const config = weekendsOnlyConfig();

function configWith(mutate: (c: Record<string, any>) => void): Config {
  const raw = yaml.load(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'), { schema: yaml.CORE_SCHEMA }) as Record<string, any>;
  // As `config`: weekends only, unless the test sets holidays of its own.
  for (const r of Object.values(raw.regions as Record<string, any>)) delete r.publicHolidays;
  mutate(raw);
  const result = compileConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

function history(iid: number, overrides: Partial<RequestHistory> = {}): RequestHistory {
  const since = overrides.stateSince ?? '2026-11-20T21:00:00Z';
  return historyFixture({
    iid,
    title: `Scale request ${iid}`,
    createdAt: since,
    assignees: ['casey.cse'],
    customer: 'Acme',
    state: 'assigned',
    stateSince: since,
    reached: { assigned: since },
    ...overrides,
  });
}

const req = (history: RequestHistory, checklist: ReminderRequest['checklist'] = null): ReminderRequest => ({
  history,
  checklist,
});

// Assigned to casey.cse Friday 20 16:00 NY: accept due Tue 24 21:00Z, escalate due Wed 25 21:00Z.
const r7 = history(7);
// Assigned to casey.cse Thursday 19 10:00 NY: accept due Mon 23 15:00Z, escalate due Tue 24 15:00Z.
const r8 = history(8, { stateSince: '2026-11-19T15:00:00Z' });
// smb / amr-west, assigned to finley.cse Thursday 19 07:00 LA: accept due Mon 23 15:00Z, escalate Tue 24 15:00Z.
const r9 = history(9, {
  segment: 'smb',
  region: 'amr-west',
  form: { id: 'smbwest_amr', version: 1 },
  assignees: ['finley.cse'],
  stateSince: '2026-11-19T15:00:00Z',
});

/** Thursday 2026-11-26 12:00 New York, 09:00 Los Angeles. */
const THURSDAY_NOON = new Date('2026-11-26T17:00:00Z');

function plan(
  requests: ReminderRequest[],
  now: Date,
  sent: ReadonlySet<string> = new Set(),
  cfg: Config = config,
): ReminderPlan {
  return planReminders({ requests, sent, config: cfg, now });
}

function breach(
  h: RequestHistory,
  kind: Breach['kind'],
  now = '2026-12-31T17:00:00Z',
  checklist: ReminderRequest['checklist'] = null,
): Breach {
  const found = openBreaches(h, checklist, config, new Date(now)).find((b) => b.kind === kind);
  if (!found) throw new Error(`no ${kind} breach`);
  return found;
}

const summary = (p: ReminderPlan) => ({
  messages: p.messages.map((m) => [m.username, m.items.map((i) => `${i.kind}:${i.iid}`)]),
  held: p.held.map((h) => [h.username, h.items.map((i) => `${i.kind}:${i.iid}`), h.until]),
  alreadySent: p.alreadySent,
});

describe('recipientsFor', () => {
  it('accept: the assignees, else the routing fallback', () => {
    expect(recipientsFor(breach(r7, 'accept'), r7, config)).toEqual(['casey.cse']);
    const both = history(7, { assignees: ['casey.cse', 'drew.cse'] });
    expect(recipientsFor(breach(both, 'accept'), both, config)).toEqual(['casey.cse', 'drew.cse']);
    const nobody = history(7, { assignees: [] });
    expect(recipientsFor(breach(nobody, 'accept'), nobody, config)).toEqual(['harper.mgr']);
  });

  it('escalate: the pool backup, then the managers, without the assignee', () => {
    expect(recipientsFor(breach(r7, 'escalate'), r7, config)).toEqual(['harper.mgr']);
    const east = history(7, { segment: 'smb', region: 'amr-east', assignees: ['emery.cse'] });
    expect(recipientsFor(breach(east, 'escalate'), east, config)).toEqual(['finley.cse', 'harper.mgr']);
    // The backup CSE is the one assigned (picked by hand): not told to cover for themselves.
    const backupAssigned = history(7, { segment: 'smb', region: 'amr-east', assignees: ['Finley.CSE'] });
    expect(recipientsFor(breach(backupAssigned, 'escalate'), backupAssigned, config)).toEqual(['harper.mgr']);
  });

  it('escalate: managers by segment and region, an empty list meaning all', () => {
    const cfg = configWith((c) => {
      c.people.push(
        { username: 'pat.mgr', roles: ['manager'] },
        { username: 'morgan.mgr', roles: ['manager'], segments: ['smb'], regions: ['amr-west'] },
        { username: 'robin.mgr', roles: ['manager'], segments: ['mm'] },
        { username: 'quinn.mgr', roles: ['manager'], regions: ['amr-east'] },
      );
    });
    const b = (h: RequestHistory) =>
      openBreaches(h, null, cfg, new Date('2026-12-31T17:00:00Z')).find((x) => x.kind === 'escalate')!;
    expect(recipientsFor(b(r7), r7, cfg)).toEqual(['harper.mgr', 'pat.mgr', 'robin.mgr']);
    expect(recipientsFor(b(r9), r9, cfg)).toEqual(['emery.cse', 'harper.mgr', 'pat.mgr', 'morgan.mgr']);
    // A manager who is the assignee is left out.
    const mgrAssigned = history(7, { assignees: ['harper.mgr'] });
    expect(recipientsFor(b(mgrAssigned), mgrAssigned, cfg)).toEqual(['pat.mgr', 'robin.mgr']);
  });

  it('escalate: a segment and region without a pool go to the managers', () => {
    const noPool = history(7, { segment: 'ent', region: 'amr-west', assignees: ['casey.cse'] });
    expect(recipientsFor(breach(noPool, 'escalate'), noPool, config)).toEqual(['harper.mgr']);
  });

  it('follow-up: the assignees', () => {
    const h = history(7, { state: 'accepted', assignees: ['drew.cse'] });
    const b = breach(h, 'follow-up', '2026-12-31T17:00:00Z', {
      callHeldAt: '2026-11-23T15:00:00Z',
      followUpSent: false,
    });
    expect(recipientsFor(b, h, config)).toEqual(['drew.cse']);
  });

  it('stale: the assignees, else the author', () => {
    const h = history(7, { state: 'accepted', assignees: ['drew.cse'], lastHumanActivity: '2026-11-20T21:00:00Z' });
    expect(recipientsFor(breach(h, 'stale'), h, config)).toEqual(['drew.cse']);
    const unassigned = history(7, { state: 'scheduled', assignees: [], lastHumanActivity: '2026-11-20T21:00:00Z' });
    expect(recipientsFor(breach(unassigned, 'stale'), unassigned, config)).toEqual(['alex.ae']);
  });

  it('spells usernames as configured and lists each once', () => {
    const h = history(7, { assignees: ['Casey.CSE', 'casey.cse'] });
    expect(recipientsFor(breach(h, 'accept'), h, config)).toEqual(['casey.cse']);
  });
});

describe('planReminders', () => {
  it('groups every reminder of one person into one message, items by due', () => {
    const p = plan([req(r7), req(r8)], THURSDAY_NOON);
    expect(summary(p)).toEqual({
      messages: [
        ['casey.cse', ['accept:8', 'accept:7']],
        ['harper.mgr', ['escalate:8', 'escalate:7']],
      ],
      held: [],
      alreadySent: 0,
    });
    const casey = p.messages[0]!;
    expect(casey.markerKey).toBe('reminders:casey.cse:20261126t1700');
    expect(casey.keys).toEqual(['accept:8:2026-11-19T15:00:00Z>casey.cse', 'accept:7:2026-11-20T21:00:00Z>casey.cse']);
    expect(casey.items[0]).toEqual({
      kind: 'accept',
      iid: 8,
      title: 'Scale request 8',
      webUrl: 'https://gitlab.example/sales/requests/-/issues/8',
      due: '2026-11-23T15:00:00.000Z',
      // Due Monday 10:00 NY; Tuesday and Wednesday 10:00 have passed by Thursday noon.
      businessDaysLate: 3,
      text: 'not accepted or declined 2 business days after assignment (due 2026-11-23 10:00 America/New_York)',
      action:
        'accept with `@scale-bot accept` (or the label `engagement::accepted`), or decline with `@scale-bot decline <reason>`',
    });
    expect(casey.items[1]!.businessDaysLate).toBe(1);
    const harper = p.messages[1]!;
    expect(harper.items[1]).toMatchObject({
      kind: 'escalate',
      iid: 7,
      due: '2026-11-25T21:00:00.000Z',
      businessDaysLate: 0,
    });
    // The escalation names the CSE who has not answered, and says how to clear it.
    expect(harper.items[1]!.text).toBe(
      'Casey Kim (casey.cse) has not accepted or declined it 3 business days after assignment (due 2026-11-25 16:00 America/New_York); you are the backup for this request',
    );
    expect(harper.items[1]!.action).toBe(
      'have it answered, or hand it to another CSE with `@scale-bot reassign @name`',
    );
  });

  it('sorts messages by username and leaves out requests with nothing due', () => {
    const fresh = history(10, { stateSince: '2026-11-26T15:00:00Z' });
    const p = plan([req(r9), req(fresh), req(r7)], THURSDAY_NOON);
    expect(p.messages.map((m) => m.username)).toEqual(['casey.cse', 'emery.cse', 'finley.cse', 'harper.mgr']);
    expect(p.messages.flatMap((m) => m.items.map((i) => i.iid))).not.toContain(10);
  });

  it('tells a manager who is not a backup so', () => {
    const cfg = configWith((c) => c.people.push({ username: 'pat.mgr', roles: ['manager'], regions: ['amr'] }));
    const pat = plan([req(r7)], THURSDAY_NOON, new Set(), cfg).messages.find((m) => m.username === 'pat.mgr')!;
    expect(pat.items.map((i) => i.text)).toEqual([
      'Casey Kim (casey.cse) has not accepted or declined it 3 business days after assignment (due 2026-11-25 16:00 America/New_York); you are a manager for this request',
    ]);
  });

  it('words follow-up and stale reminders, in the reader’s time zone', () => {
    const h = history(11, {
      state: 'accepted',
      segment: 'smb',
      region: 'amr-west',
      assignees: ['finley.cse'],
      lastHumanActivity: '2026-11-06T15:00:00Z',
    });
    const p = plan([req(h, { callHeldAt: '2026-11-23T15:00:00Z', followUpSent: false })], THURSDAY_NOON);
    expect(p.messages).toHaveLength(1);
    expect(p.messages[0]!.items.map((i) => [i.kind, i.text])).toEqual([
      ['stale', 'no activity by anyone for 10 business days (due 2026-11-20 07:00 America/Los_Angeles)'],
      [
        'follow-up',
        'follow-up email not sent 2 business days after the call was held (due 2026-11-25 07:00 America/Los_Angeles)',
      ],
    ]);
  });

  describe('sends each reminder once', () => {
    it('skips a key already sent and counts it', () => {
      const p = plan([req(r7), req(r8)], THURSDAY_NOON, new Set(['accept:8:2026-11-19T15:00:00Z>casey.cse']));
      expect(summary(p).messages).toEqual([
        ['casey.cse', ['accept:7']],
        ['harper.mgr', ['escalate:8', 'escalate:7']],
      ]);
      expect(p.alreadySent).toBe(1);
    });

    it('round-trips through the rendered notes: the next run sends nothing', () => {
      const requests = [req(r7), req(r8), req(r9)];
      const first = plan(requests, THURSDAY_NOON);
      const bodies = first.messages.map((m) => reminderNoteBody(m));
      const sent = sentKeys(bodies);
      expect([...sent].sort()).toEqual(first.messages.flatMap((m) => m.keys).sort());
      const next = plan(requests, new Date('2026-11-27T17:00:00Z'), sent);
      expect(next.messages).toEqual([]);
      expect(next.held).toEqual([]);
      expect(next.alreadySent).toBe(sent.size);
    });

    it('reminds again when the clock restarts (reassigned)', () => {
      const first = plan([req(r7)], THURSDAY_NOON);
      const sent = sentKeys(first.messages.map((m) => reminderNoteBody(m)));
      // Reassigned to drew.cse on Monday 30 09:00 NY; accept due Wednesday 2 December 09:00 NY.
      const again = history(7, {
        assignees: ['drew.cse'],
        stateSince: '2026-11-30T14:00:00Z',
        reached: { assigned: '2026-11-20T21:00:00Z' },
      });
      const p = plan([req(again)], new Date('2026-12-02T15:00:00Z'), sent);
      expect(summary(p).messages).toEqual([['drew.cse', ['accept:7']]]);
      expect(p.messages[0]!.keys).toEqual(['accept:7:2026-11-30T14:00:00Z>drew.cse']);
    });
  });

  describe('quiet hours', () => {
    it('holds a person inside their quiet hours until they end, and marks nothing', () => {
      // Thursday 18:30 New York.
      const p = plan([req(r7)], new Date('2026-11-26T23:30:00Z'));
      expect(summary(p)).toEqual({
        messages: [],
        held: [
          ['casey.cse', ['accept:7'], '2026-11-27T13:00:00.000Z'],
          ['harper.mgr', ['escalate:7'], '2026-11-27T13:00:00.000Z'],
        ],
        alreadySent: 0,
      });
    });

    it('counts quiet hours in each person’s own time zone', () => {
      // 23:30Z: 18:30 in New York (quiet), 15:30 in Los Angeles (not).
      const p = plan([req(r7), req(r9)], new Date('2026-11-26T23:30:00Z'));
      expect(p.messages.map((m) => m.username)).toEqual(['finley.cse']);
      expect(p.held.map((h) => h.username)).toEqual(['casey.cse', 'emery.cse', 'harper.mgr']);
    });

    it.each([
      ['17:59 NY, before the window', '2026-11-26T22:59:00Z', null],
      ['18:00 NY, the window opens', '2026-11-26T23:00:00Z', '2026-11-27T13:00:00.000Z'],
      ['23:59 NY', '2026-11-27T04:59:00Z', '2026-11-27T13:00:00.000Z'],
      ['01:00 NY, after midnight', '2026-11-27T06:00:00Z', '2026-11-27T13:00:00.000Z'],
      ['07:59 NY', '2026-11-27T12:59:00Z', '2026-11-27T13:00:00.000Z'],
      ['08:00 NY, the window closes', '2026-11-27T13:00:00Z', null],
    ])('wraps midnight: %s', (_name, now, until) => {
      const p = plan([req(r7)], new Date(now));
      const casey = p.held.find((h) => h.username === 'casey.cse');
      expect(casey?.until ?? null).toBe(until);
      expect(p.messages.some((m) => m.username === 'casey.cse')).toBe(until === null);
    });

    it('a window within the day', () => {
      const cfg = configWith((c) => (c.reminders = { quietHours: { start: '12:00', end: '13:00' } }));
      const at = (iso: string) => plan([req(r7)], new Date(iso), new Set(), cfg);
      expect(at('2026-11-26T16:59:00Z').messages).toHaveLength(2); // 11:59 NY
      expect(at('2026-11-26T17:30:00Z').held.map((h) => h.until)).toEqual([
        '2026-11-26T18:00:00.000Z',
        '2026-11-26T18:00:00.000Z',
      ]); // 12:30 NY
      expect(at('2026-11-26T18:00:00Z').messages).toHaveLength(2); // 13:00 NY
      expect(at('2026-11-26T23:30:00Z').messages).toHaveLength(2); // 18:30 NY
    });

    it('none when quietHours is null', () => {
      const cfg = configWith((c) => (c.reminders = { quietHours: null }));
      const p = plan([req(r7)], new Date('2026-11-27T06:00:00Z'), new Set(), cfg);
      expect(p.messages.map((m) => m.username)).toEqual(['casey.cse', 'harper.mgr']);
      expect(p.held).toEqual([]);
    });

    it('uses calendar.timezone for a person without a region', () => {
      const cfg = configWith((c) => (c.calendar = { timezone: 'Asia/Tokyo' }));
      const orphan = history(12, {
        state: 'accepted',
        assignees: [],
        author: 'outside.ae',
        lastHumanActivity: '2026-11-06T15:00:00Z',
        stateSince: '2026-11-06T15:00:00Z',
      });
      // 2026-11-26T17:00Z is Friday 02:00 in Tokyo: quiet until 08:00 JST (23:00Z).
      const p = plan([req(orphan)], THURSDAY_NOON, new Set(), cfg);
      expect(summary(p).held).toEqual([['outside.ae', ['stale:12'], '2026-11-26T23:00:00.000Z']]);
      // In the default UTC, 17:00 is not quiet yet.
      expect(summary(plan([req(orphan)], THURSDAY_NOON)).messages).toEqual([['outside.ae', ['stale:12']]]);
    });
  });

  describe('business days only', () => {
    // Saturday 2026-11-28 10:00 New York.
    const SATURDAY = new Date('2026-11-28T15:00:00Z');

    it('holds weekend reminders until Monday morning after the quiet hours', () => {
      const p = plan([req(r7)], SATURDAY);
      expect(p.messages).toEqual([]);
      expect(p.held.map((h) => [h.username, h.until])).toEqual([
        ['casey.cse', '2026-11-30T13:00:00.000Z'],
        ['harper.mgr', '2026-11-30T13:00:00.000Z'],
      ]);
    });

    it('until Monday 00:00 local without quiet hours; sends them when weekends are allowed', () => {
      const noQuiet = configWith((c) => (c.reminders = { quietHours: null }));
      expect(plan([req(r7)], SATURDAY, new Set(), noQuiet).held.map((h) => h.until)).toEqual([
        '2026-11-30T05:00:00.000Z',
        '2026-11-30T05:00:00.000Z',
      ]);
      const weekends = configWith((c) => (c.reminders = { businessDaysOnly: false }));
      expect(plan([req(r7)], SATURDAY, new Set(), weekends).messages.map((m) => m.username)).toEqual([
        'casey.cse',
        'harper.mgr',
      ]);
    });

    it('a Friday evening waits for Monday 08:00, also across a DST change', () => {
      expect(plan([req(r7)], new Date('2026-11-27T23:30:00Z')).held.map((h) => h.until)).toEqual([
        '2026-11-30T13:00:00.000Z',
        '2026-11-30T13:00:00.000Z',
      ]);
      // Friday 2026-10-30 18:30 EDT → Monday 2026-11-02 08:00 EST.
      const oct = history(13, { stateSince: '2026-10-22T15:00:00Z' });
      expect(plan([req(oct)], new Date('2026-10-30T22:30:00Z')).held.map((h) => h.until)).toEqual([
        '2026-11-02T13:00:00.000Z',
        '2026-11-02T13:00:00.000Z',
      ]);
    });

    it('holds on a holiday of the person’s region only', () => {
      // Thursday 26 is a holiday in amr only. r9 (amr-west) reminds finley.cse (amr-west) and
      // escalates to emery.cse (amr-east, also New York time) and harper.mgr (amr).
      const cfg = configWith((c) => (c.regions.amr.holidays = ['2026-11-26']));
      const p = plan([req(r9)], THURSDAY_NOON, new Set(), cfg);
      expect(p.messages.map((m) => m.username)).toEqual(['emery.cse', 'finley.cse']);
      expect(p.held.map((h) => [h.username, h.until])).toEqual([['harper.mgr', '2026-11-27T13:00:00.000Z']]);
    });

    it('a held reminder is sent by the next run (it was never marked)', () => {
      const held = plan([req(r7)], SATURDAY);
      const sent = sentKeys(held.messages.map((m) => reminderNoteBody(m)));
      expect(sent.size).toBe(0);
      const monday = plan([req(r7)], new Date('2026-11-30T13:00:00Z'), sent);
      expect(monday.messages.map((m) => [m.username, m.keys])).toEqual([
        ['casey.cse', ['accept:7:2026-11-20T21:00:00Z>casey.cse']],
        ['harper.mgr', ['escalate:7:2026-11-20T21:00:00Z>harper.mgr']],
      ]);
      expect(monday.messages[0]!.markerKey).toBe('reminders:casey.cse:20261130t1300');
    });
  });
});

describe('sentKeys', () => {
  it('reads the sent keys of reminder notes only', () => {
    const bodies = [
      `${noteMarker('reminders:casey.cse:20261126t1700', { sent: ['accept:7:2026-11-20T21:00:00Z>casey.cse'] })}\n@casey.cse, …`,
      `${noteMarker('reminders:harper.mgr:20261126t1700', { sent: ['escalate:7:2026-11-20T21:00:00Z>harper.mgr', 42] })}\n@harper.mgr, …`,
      `${noteMarker('request', { sent: ['accept:9:x>someone'] })}\nnot a reminder`,
      `${noteMarker('reminders:drew.cse:20261126t1700', { sent: 'accept:1:x>drew.cse' })}\nbad state`,
      '<!-- scale-bot:reminders:gray.cse:20261126t1700 state=%%% -->\ndamaged',
      'a human comment',
      '',
    ];
    expect([...sentKeys(bodies)].sort()).toEqual([
      'accept:7:2026-11-20T21:00:00Z>casey.cse',
      'escalate:7:2026-11-20T21:00:00Z>harper.mgr',
    ]);
  });
});
