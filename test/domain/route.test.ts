import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RawConfig, Strategy } from '../../src/domain/config-schema.js';
import { compileConfig, type Config } from '../../src/domain/config.js';
import type { DetectedForm, ParsedRequest } from '../../src/domain/request.js';
import { poolKey, route, type ExistingAssignment, type RouteDecision, type Workload } from '../../src/domain/route.js';
import { exampleConfig } from '../helpers/config.js';

const TODAY = '2026-06-15';

// compileConfig insists that every fieldMap target exists; routing reads none of them.
const FIELD_IDS = [
  'customer_name',
  'crm_account',
  'arr',
  'lam',
  'licenses_purchased',
  'licenses_in_use',
  'utilization',
  'subscription_start',
  'renewal_date',
  'request_type',
  'public_sector',
  'propensity_to_churn',
  'propensity_to_expand',
];

type RawPerson = NonNullable<RawConfig['people']>[number];
type Absence = NonNullable<RawPerson['outOfOffice']>[number];

interface Options {
  strategy?: Strategy;
  defaultStrategy?: Strategy;
  capacity?: number;
  poolCapacity?: number;
  /** Per-username extras: a personal capacity and absences. */
  people?: Record<string, { capacity?: number; outOfOffice?: Absence[] }>;
  backup?: string[];
}

/**
 * People a/b/c/d.cse and the managers boss.mgr and lead.mgr. One pool, mm/amr, with members
 * a, b, c and backup [d.cse, boss.mgr]; no pool for smb/amr; fallback [lead.mgr, boss.mgr].
 */
function makeConfig(o: Options = {}): Config {
  const person = (username: string, role: 'cse' | 'manager'): RawPerson => ({
    username,
    roles: [role],
    ...o.people?.[username],
  });
  const raw: RawConfig = {
    version: 1,
    bot: { username: 'scale-bot' },
    fields: Object.fromEntries(FIELD_IDS.map((id) => [id, { label: id, type: 'text' as const }])),
    forms: {},
    segments: { mm: { name: 'Mid-Market', arr: { min: 1, max: 2 } }, smb: { name: 'SMB', arr: { min: 1, max: 2 } } },
    regions: { amr: { name: 'AMER' } },
    people: [
      person('a.cse', 'cse'),
      person('b.cse', 'cse'),
      person('c.cse', 'cse'),
      person('d.cse', 'cse'),
      person('boss.mgr', 'manager'),
      person('lead.mgr', 'manager'),
    ],
    routing: {
      ...(o.defaultStrategy ? { strategy: o.defaultStrategy } : {}),
      ...(o.capacity ? { capacity: o.capacity } : {}),
      pools: [
        {
          segment: 'mm',
          region: 'amr',
          members: ['a.cse', 'b.cse', 'c.cse'],
          backup: o.backup ?? ['d.cse', 'boss.mgr'],
          ...(o.strategy ? { strategy: o.strategy } : {}),
          ...(o.poolCapacity ? { capacity: o.poolCapacity } : {}),
        },
      ],
      fallback: ['lead.mgr', 'boss.mgr'],
    },
  };
  const result = compileConfig(raw);
  expect(result.ok, JSON.stringify(result.ok ? [] : result.problems)).toBe(true);
  if (!result.ok) throw new Error('test config does not compile');
  return result.config;
}

function makeRequest(segment: string, region: string): ParsedRequest {
  const form: DetectedForm = {
    id: `${segment}_${region}`,
    version: 1,
    title: 'Scale Engagement Request',
    segment,
    region,
    detectedBy: 'marker',
  };
  return { form, fields: {}, problems: [] };
}

const MM = makeRequest('mm', 'amr');
const NO_FORM: ParsedRequest = { form: null, fields: {}, problems: [] };

function workload(open: Record<string, number> = {}, lastAssigned: Record<string, string> = {}): Workload {
  return { open, lastAssigned };
}

const away = (from: string, to: string, note?: string): Absence[] => [{ from, to, ...(note ? { note } : {}) }];

function skippedOf(d: RouteDecision): Array<[string, string]> {
  return d.skipped.map((s) => [s.username, s.reason]);
}

describe('poolKey', () => {
  it('joins segment and region', () => expect(poolKey('smb', 'amr-east')).toBe('smb/amr-east'));
});

describe('primary', () => {
  it.each<{
    name: string;
    options: Options;
    open?: Record<string, number>;
    assignee: string;
    skipped: Array<[string, string]>;
  }>([
    { name: 'first member', options: {}, assignee: 'a.cse', skipped: [] },
    {
      name: 'first out of office',
      options: { people: { 'a.cse': { outOfOffice: away('2026-06-01', '2026-06-30') } } },
      assignee: 'b.cse',
      skipped: [['a.cse', 'out-of-office']],
    },
    {
      name: 'first at capacity',
      options: {},
      open: { 'a.cse': 10 },
      assignee: 'b.cse',
      skipped: [['a.cse', 'at-capacity']],
    },
    {
      name: 'first two unavailable',
      options: { people: { 'b.cse': { outOfOffice: away('2026-06-15', '2026-06-15') } } },
      open: { 'a.cse': 12 },
      assignee: 'c.cse',
      skipped: [
        ['a.cse', 'at-capacity'],
        ['b.cse', 'out-of-office'],
      ],
    },
    { name: 'load does not matter', options: {}, open: { 'a.cse': 9, 'b.cse': 0 }, assignee: 'a.cse', skipped: [] },
  ])('$name → $assignee', ({ options, open, assignee, skipped }) => {
    const d = route(MM, makeConfig({ strategy: 'primary', ...options }), workload(open), TODAY);
    expect(d).toMatchObject({ assignee, via: 'pool', pool: 'mm/amr', strategy: 'primary' });
    expect(skippedOf(d)).toEqual(skipped);
    expect(d.reason).toBe(`primary in mm/amr: ${assignee} is the first available member`);
  });
});

describe('round-robin', () => {
  const b = { outOfOffice: away('2026-06-01', '2026-06-30') };
  it.each<{
    name: string;
    last?: string;
    options?: Options;
    open?: Record<string, number>;
    assignee: string;
    reason: RegExp;
  }>([
    { name: 'no last assignment starts at the first', assignee: 'a.cse', reason: /a\.cse starts the rotation/ },
    { name: 'after a', last: 'a.cse', assignee: 'b.cse', reason: /b\.cse is next after a\.cse/ },
    { name: 'after b', last: 'b.cse', assignee: 'c.cse', reason: /next after b\.cse/ },
    {
      name: 'after the last member wraps round',
      last: 'c.cse',
      assignee: 'a.cse',
      reason: /a\.cse is next after c\.cse/,
    },
    { name: 'last is no longer a member', last: 'gone.cse', assignee: 'a.cse', reason: /starts the rotation/ },
    { name: 'usernames compare case-insensitively', last: 'A.CSE', assignee: 'b.cse', reason: /next after/ },
    {
      name: 'skips an absent next member',
      last: 'a.cse',
      options: { people: { 'b.cse': b } },
      assignee: 'c.cse',
      reason: /c\.cse/,
    },
    {
      name: 'wraps past a full member',
      last: 'b.cse',
      open: { 'c.cse': 10 },
      assignee: 'a.cse',
      reason: /a\.cse is next/,
    },
    {
      name: 'comes back to the last one when only they are available',
      last: 'a.cse',
      options: { people: { 'b.cse': b, 'c.cse': b } },
      assignee: 'a.cse',
      reason: /a\.cse is next after a\.cse/,
    },
  ])('$name → $assignee', ({ last, options, open, assignee, reason }) => {
    const d = route(
      MM,
      makeConfig({ strategy: 'round-robin', ...options }),
      workload(open, last ? { 'mm/amr': last } : {}),
      TODAY,
    );
    expect(d).toMatchObject({ assignee, via: 'pool', pool: 'mm/amr', strategy: 'round-robin' });
    expect(d.reason).toMatch(reason);
  });

  it('ignores the last assignment of another pool', () => {
    const d = route(MM, makeConfig({ strategy: 'round-robin' }), workload({}, { 'smb/amr': 'a.cse' }), TODAY);
    expect(d.assignee).toBe('a.cse');
  });
});

describe('least-loaded', () => {
  it.each<{ name: string; open: Record<string, number>; assignee: string; reason?: string }>([
    {
      name: 'fewest open',
      open: { 'a.cse': 3, 'b.cse': 1, 'c.cse': 2 },
      assignee: 'b.cse',
      reason: 'least-loaded in mm/amr: b.cse has 1 open (a.cse has 3, c.cse has 2)',
    },
    { name: 'tie goes to member order', open: { 'a.cse': 2, 'b.cse': 1, 'c.cse': 1 }, assignee: 'b.cse' },
    { name: 'three-way tie', open: { 'a.cse': 4, 'b.cse': 4, 'c.cse': 4 }, assignee: 'a.cse' },
    { name: 'missing counts are zero', open: { 'a.cse': 1 }, assignee: 'b.cse' },
    { name: 'workload usernames are case-insensitive', open: { 'A.CSE': 5, 'B.Cse': 5 }, assignee: 'c.cse' },
    {
      name: 'members at capacity are not candidates',
      open: { 'a.cse': 10, 'b.cse': 10, 'c.cse': 9 },
      assignee: 'c.cse',
      reason: 'least-loaded in mm/amr: c.cse has 9 open (the only available member)',
    },
  ])('$name → $assignee', ({ open, assignee, reason }) => {
    const d = route(MM, makeConfig({ strategy: 'least-loaded' }), workload(open), TODAY);
    expect(d).toMatchObject({ assignee, via: 'pool', strategy: 'least-loaded' });
    if (reason) expect(d.reason).toBe(reason);
  });
});

describe('strategy selection', () => {
  it.each<{ pool?: Strategy; routing?: Strategy; strategy: Strategy }>([
    { strategy: 'least-loaded' },
    { routing: 'primary', strategy: 'primary' },
    { routing: 'primary', pool: 'round-robin', strategy: 'round-robin' },
    { pool: 'primary', strategy: 'primary' },
  ])('pool $pool, routing $routing → $strategy', ({ pool, routing, strategy }) => {
    const options: Options = { ...(pool ? { strategy: pool } : {}), ...(routing ? { defaultStrategy: routing } : {}) };
    expect(route(MM, makeConfig(options), workload(), TODAY).strategy).toBe(strategy);
  });
});

describe('out of office (inclusive window 2026-06-10 to 2026-06-15)', () => {
  const options: Options = {
    strategy: 'primary',
    people: { 'a.cse': { outOfOffice: away('2026-06-10', '2026-06-15', 'Vacation') } },
  };
  it.each([
    ['2026-06-09', 'a.cse'],
    ['2026-06-10', 'b.cse'],
    ['2026-06-12', 'b.cse'],
    ['2026-06-15', 'b.cse'],
    ['2026-06-16', 'a.cse'],
  ])('on %s → %s', (today, assignee) => {
    expect(route(MM, makeConfig(options), workload(), today).assignee).toBe(assignee);
  });

  it('says when and why in the skip detail', () => {
    const d = route(MM, makeConfig(options), workload(), '2026-06-12');
    expect(d.skipped).toEqual([
      { username: 'a.cse', reason: 'out-of-office', detail: 'out of office 2026-06-10 to 2026-06-15 (Vacation)' },
    ]);
  });

  it('checks every window a person has', () => {
    const config = makeConfig({
      strategy: 'primary',
      people: { 'a.cse': { outOfOffice: [...away('2026-01-01', '2026-01-02'), ...away('2026-06-14', '2026-06-20')] } },
    });
    expect(route(MM, config, workload(), TODAY).assignee).toBe('b.cse');
  });

  it('reads only the date of a timestamp given as today', () => {
    expect(route(MM, makeConfig(options), workload(), '2026-06-15T23:59:00Z').assignee).toBe('b.cse');
  });
});

describe('capacity', () => {
  it.each<{ name: string; options: Options; open: number; available: boolean; capacity: number }>([
    { name: 'routing default 10, at 9', options: {}, open: 9, available: true, capacity: 10 },
    { name: 'routing default 10, at 10', options: {}, open: 10, available: false, capacity: 10 },
    { name: 'routing capacity 4, at 4', options: { capacity: 4 }, open: 4, available: false, capacity: 4 },
    { name: 'pool 3 over routing 10, at 2', options: { poolCapacity: 3 }, open: 2, available: true, capacity: 3 },
    { name: 'pool 3 over routing 10, at 3', options: { poolCapacity: 3 }, open: 3, available: false, capacity: 3 },
    {
      name: 'person 5 over pool 3, at 4',
      options: { poolCapacity: 3, people: { 'a.cse': { capacity: 5 } } },
      open: 4,
      available: true,
      capacity: 5,
    },
    {
      name: 'person 5 over pool 3, at 5',
      options: { poolCapacity: 3, people: { 'a.cse': { capacity: 5 } } },
      open: 5,
      available: false,
      capacity: 5,
    },
    {
      name: 'person 12 over routing 10, at 11',
      options: { people: { 'a.cse': { capacity: 12 } } },
      open: 11,
      available: true,
      capacity: 12,
    },
  ])('$name → available: $available', ({ options, open, available, capacity }) => {
    const d = route(MM, makeConfig({ strategy: 'primary', ...options }), workload({ 'a.cse': open }), TODAY);
    expect(d.assignee).toBe(available ? 'a.cse' : 'b.cse');
    expect(d.skipped).toEqual(
      available
        ? []
        : [{ username: 'a.cse', reason: 'at-capacity', detail: `${open} open engagements, capacity ${capacity}` }],
    );
  });
});

describe('backup chain (members a, b, c all out of office)', () => {
  const out = { outOfOffice: away('2026-06-01', '2026-06-30') };
  const allOut = { 'a.cse': out, 'b.cse': out, 'c.cse': out };
  const membersSkipped: Array<[string, string]> = [
    ['a.cse', 'out-of-office'],
    ['b.cse', 'out-of-office'],
    ['c.cse', 'out-of-office'],
  ];

  it.each<{
    name: string;
    options: Options;
    open?: Record<string, number>;
    assignee: string | null;
    skipped: Array<[string, string]>;
  }>([
    { name: 'first backup', options: {}, assignee: 'd.cse', skipped: [] },
    {
      name: 'backup CSE out of office',
      options: { people: { 'd.cse': out } },
      assignee: 'boss.mgr',
      skipped: [['d.cse', 'out-of-office']],
    },
    {
      name: 'backup CSE at capacity',
      options: {},
      open: { 'd.cse': 10 },
      assignee: 'boss.mgr',
      skipped: [['d.cse', 'at-capacity']],
    },
    // A pool's capacity binds its members, not a backup from elsewhere.
    {
      name: 'pool capacity does not bind a backup',
      options: { poolCapacity: 2 },
      open: { 'd.cse': 5 },
      assignee: 'd.cse',
      skipped: [],
    },
    {
      name: 'manager over any capacity',
      options: { people: { 'boss.mgr': { capacity: 1 }, 'd.cse': out } },
      open: { 'boss.mgr': 40 },
      assignee: 'boss.mgr',
      skipped: [['d.cse', 'out-of-office']],
    },
    {
      name: 'manager out of office too',
      options: { people: { 'd.cse': out, 'boss.mgr': out } },
      assignee: null,
      skipped: [
        ['d.cse', 'out-of-office'],
        ['boss.mgr', 'out-of-office'],
      ],
    },
    {
      name: 'a member listed as backup is reported once',
      options: { backup: ['a.cse', 'boss.mgr'] },
      assignee: 'boss.mgr',
      skipped: [],
    },
  ])('$name → $assignee', ({ options, open, assignee, skipped }) => {
    const config = makeConfig({ ...options, people: { ...allOut, ...options.people } });
    const d = route(MM, config, workload(open), TODAY);
    expect(d).toMatchObject({ assignee, via: assignee ? 'backup' : 'none', pool: 'mm/amr', strategy: null });
    expect(skippedOf(d)).toEqual([...membersSkipped, ...skipped]);
    if (assignee)
      expect(d.reason).toMatch(
        new RegExp(`no member of mm/amr is available .*; assigned to backup ${assignee.replace('.', '\\.')}$`),
      );
    else
      expect(d.reason).toMatch(
        /nobody in mm\/amr or its backup chain is available.*a manager must assign this request by hand/,
      );
  });

  it('goes to backup when every member is at capacity', () => {
    const d = route(MM, makeConfig({ poolCapacity: 1 }), workload({ 'a.cse': 1, 'b.cse': 1, 'c.cse': 3 }), TODAY);
    expect(d).toMatchObject({ assignee: 'd.cse', via: 'backup' });
    expect(d.skipped.map((s) => s.reason)).toEqual(['at-capacity', 'at-capacity', 'at-capacity']);
  });
});

describe('fallback (no pool)', () => {
  const out = { outOfOffice: away('2026-06-15', '2026-06-20') };
  it.each<{
    name: string;
    request: ParsedRequest;
    options?: Options;
    open?: Record<string, number>;
    assignee: string | null;
    reason: RegExp;
  }>([
    {
      name: 'unknown segment/region',
      request: makeRequest('smb', 'amr'),
      assignee: 'lead.mgr',
      reason: /^no pool covers smb\/amr; assigned to lead\.mgr from the fallback list$/,
    },
    {
      name: 'unknown region',
      request: makeRequest('mm', 'emea'),
      assignee: 'lead.mgr',
      reason: /no pool covers mm\/emea/,
    },
    { name: 'no form', request: NO_FORM, assignee: 'lead.mgr', reason: /template was not recognised/ },
    {
      name: 'manager at any load',
      request: NO_FORM,
      open: { 'lead.mgr': 99 },
      assignee: 'lead.mgr',
      reason: /lead\.mgr/,
    },
    {
      name: 'first fallback out of office',
      request: NO_FORM,
      options: { people: { 'lead.mgr': out } },
      assignee: 'boss.mgr',
      reason: /boss\.mgr from the fallback list \(skipped: lead\.mgr out of office\)/,
    },
    {
      name: 'everyone on the fallback list out of office',
      request: makeRequest('smb', 'amr'),
      options: { people: { 'lead.mgr': out, 'boss.mgr': out } },
      assignee: null,
      reason: /nobody on the fallback list is available.*a manager must assign this request by hand/,
    },
  ])('$name → $assignee', ({ request, options, open, assignee, reason }) => {
    const d = route(request, makeConfig(options), workload(open), TODAY);
    expect(d).toMatchObject({ assignee, via: assignee ? 'fallback' : 'none', pool: null, strategy: null });
    expect(d.reason).toMatch(reason);
  });
});

describe('existing assignment', () => {
  it.each<{
    name: string;
    request: ParsedRequest;
    existing: ExistingAssignment;
    assignee: string;
    via: RouteDecision['via'];
  }>([
    {
      name: 'a human assignment is kept',
      request: MM,
      existing: { assignees: ['c.cse'], byHuman: true },
      assignee: 'c.cse',
      via: 'kept',
    },
    {
      name: 'even of someone unknown to the bot',
      request: MM,
      existing: { assignees: ['someone', 'c.cse'], byHuman: true },
      assignee: 'someone',
      via: 'kept',
    },
    {
      name: 'even without a form',
      request: NO_FORM,
      existing: { assignees: ['b.cse'], byHuman: true },
      assignee: 'b.cse',
      via: 'kept',
    },
    {
      name: 'a bot assignment is re-routed',
      request: MM,
      existing: { assignees: ['c.cse'], byHuman: false },
      assignee: 'a.cse',
      via: 'pool',
    },
    {
      name: 'no assignees routes normally',
      request: MM,
      existing: { assignees: [], byHuman: true },
      assignee: 'a.cse',
      via: 'pool',
    },
  ])('$name', ({ request, existing, assignee, via }) => {
    const config = makeConfig({
      strategy: 'primary',
      people: { 'c.cse': { outOfOffice: away('2026-06-01', '2026-06-30') } },
    });
    const d = route(request, config, workload(), TODAY, existing);
    expect(d).toMatchObject({ assignee, via });
    if (via === 'kept') {
      expect(d).toMatchObject({ pool: null, strategy: null, skipped: [] });
      expect(d.reason).toMatch(/never overrides/);
    }
  });
});

describe('unknown people', () => {
  it('skips a pool member the people list lacks', () => {
    // compileConfig rejects this, so the config is altered after compiling to prove route() stays total.
    const compiled = makeConfig({ strategy: 'primary' });
    const pool = compiled.routing.pools[0]!;
    const config: Config = {
      ...compiled,
      routing: { ...compiled.routing, pools: [{ ...pool, members: ['ghost', ...pool.members] }] },
    };
    const d = route(MM, config, workload(), TODAY);
    expect(d.assignee).toBe('a.cse');
    expect(d.skipped).toEqual([
      { username: 'ghost', reason: 'unknown-person', detail: 'not in the people list of the configuration' },
    ]);
  });
});

describe('determinism', () => {
  it('gives the same decision for the same inputs, whatever the key order of the workload', () => {
    const config = makeConfig({ people: { 'b.cse': { outOfOffice: away('2026-06-15', '2026-06-15') } } });
    const first = route(MM, config, workload({ 'a.cse': 2, 'c.cse': 2, 'd.cse': 0 }), TODAY);
    const again = route(MM, config, workload({ 'd.cse': 0, 'c.cse': 2, 'a.cse': 2 }), TODAY);
    expect(again).toEqual(first);
    expect(first.assignee).toBe('a.cse');
  });

  it('never picks someone out of office or at capacity, and is repeatable (property)', () => {
    const users = ['a.cse', 'b.cse', 'c.cse', 'd.cse', 'boss.mgr'];
    const day = fc.integer({ min: 1, max: 28 }).map((d) => `2026-06-${String(d).padStart(2, '0')}`);
    fc.assert(
      fc.property(
        fc.constantFrom<Strategy>('primary', 'round-robin', 'least-loaded'),
        fc.dictionary(fc.constantFrom(...users), fc.integer({ min: 0, max: 12 })),
        fc.option(fc.constantFrom(...users), { nil: undefined }),
        fc.dictionary(fc.constantFrom(...users), fc.tuple(day, day)),
        day,
        (strategy, open, last, absences, today) => {
          const people = Object.fromEntries(
            Object.entries(absences).map(([u, [x, y]]) => [u, { outOfOffice: away(x < y ? x : y, x < y ? y : x) }]),
          );
          const config = makeConfig({ strategy, people });
          const load = workload(open, last ? { 'mm/amr': last } : {});
          const d = route(MM, config, load, today);
          expect(route(MM, config, load, today)).toEqual(d);
          if (d.assignee === null) {
            expect(d.via).toBe('none');
            expect(d.skipped.map((s) => s.username)).toEqual(['a.cse', 'b.cse', 'c.cse', 'd.cse', 'boss.mgr']);
            return;
          }
          const person = config.person(d.assignee)!;
          expect(person.outOfOffice.some((w) => w.from <= today && today <= w.to)).toBe(false);
          if (!person.roles.includes('manager')) expect(open[d.assignee] ?? 0).toBeLessThan(10);
          expect(d.skipped.map((s) => s.username)).not.toContain(d.assignee);
        },
      ),
    );
  });
});

describe('with the shipped example config', () => {
  const example = exampleConfig();
  const ent = makeRequest('ent', 'amr');
  const mm = makeRequest('mm', 'amr');
  const west = makeRequest('smb', 'amr-west');
  const east = makeRequest('smb', 'amr-east');

  it.each<{
    name: string;
    request: ParsedRequest;
    open?: Record<string, number>;
    last?: Record<string, string>;
    today?: string;
    assignee: string;
    via: RouteDecision['via'];
    reason?: string;
  }>([
    {
      name: 'mm/amr least-loaded',
      request: mm,
      open: { 'drew.cse': 2, 'casey.cse': 4 },
      assignee: 'drew.cse',
      via: 'pool',
      reason: 'least-loaded in mm/amr: drew.cse has 2 open (casey.cse has 4)',
    },
    { name: 'ent/amr primary', request: ent, assignee: 'casey.cse', via: 'pool' },
    { name: 'ent/amr primary full', request: ent, open: { 'casey.cse': 10 }, assignee: 'drew.cse', via: 'pool' },
    // drew.cse has a personal capacity of 8.
    {
      name: 'ent/amr both full → manager',
      request: ent,
      open: { 'casey.cse': 10, 'drew.cse': 8 },
      assignee: 'harper.mgr',
      via: 'backup',
    },
    {
      name: 'smb/amr-west round-robin',
      request: west,
      last: { 'smb/amr-west': 'finley.cse' },
      assignee: 'gray.cse',
      via: 'pool',
    },
    {
      name: 'smb/amr-west with finley on holiday',
      request: west,
      last: { 'smb/amr-west': 'gray.cse' },
      today: '2026-12-25',
      assignee: 'gray.cse',
      via: 'pool',
    },
    {
      name: 'smb/amr-east full, backup finley on holiday → manager',
      request: east,
      open: { 'emery.cse': 10, 'gray.cse': 10 },
      today: '2027-01-01',
      assignee: 'harper.mgr',
      via: 'backup',
    },
    {
      name: 'smb/amr-east full → backup finley',
      request: east,
      open: { 'emery.cse': 10, 'gray.cse': 10 },
      assignee: 'finley.cse',
      via: 'backup',
    },
    { name: 'no form → fallback manager', request: NO_FORM, assignee: 'harper.mgr', via: 'fallback' },
  ])('$name → $assignee', ({ request, open, last, today, assignee, via, reason }) => {
    const d = route(request, example, workload(open, last), today ?? TODAY);
    expect(d).toMatchObject({ assignee, via });
    if (reason) expect(d.reason).toBe(reason);
  });
});
