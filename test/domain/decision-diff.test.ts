import { describe, expect, it } from 'vitest';
import {
  diffDecision,
  isBreaking,
  simulate,
  simulationMarkdown,
  summaryOf,
  whyPhrase,
} from '../../src/domain/decision-diff.js';
import type { Decision } from '../../src/domain/plan.js';

const base: Decision = {
  form: { id: 'mm_amr', version: 2 },
  versionKnown: true,
  state: 'assigned',
  qualification: 'qualified',
  reasons: [],
  priority: 'p2',
  flags: [],
  assignee: 'casey.cse',
  pool: 'mm/amr',
  strategy: 'least-loaded',
  problems: [],
};
const d = (over: Partial<Decision>): Decision => ({ ...base, ...over });
const ceiling = 'ARR $1,900,000 is above the Mid-Market ceiling of $1,500,000';

describe('diffDecision', () => {
  it.each([
    ['identical decisions', base, base, []],
    ['both not requests', undefined, undefined, []],
    [
      'another assignee, pool and strategy',
      base,
      d({ assignee: 'dana.cse', strategy: 'round-robin' }),
      [
        {
          aspect: 'assignee',
          before: 'casey.cse (pool mm/amr, least-loaded)',
          after: 'dana.cse (pool mm/amr, round-robin)',
        },
      ],
    ],
    [
      'no longer qualified',
      base,
      d({
        qualification: 'not-qualified',
        reasons: [ceiling],
        state: 'not-qualified',
        assignee: null,
        pool: null,
        strategy: null,
      }),
      [
        { aspect: 'qualification', before: 'qualified', after: `not-qualified: ${ceiling}` },
        { aspect: 'assignee', before: 'casey.cse (pool mm/amr, least-loaded)', after: 'nobody' },
        { aspect: 'state', before: 'assigned', after: 'not-qualified' },
      ],
    ],
    [
      'priority and flags',
      base,
      d({ priority: 'p1', flags: ['escalation::candidate'] }),
      [
        { aspect: 'priority', before: 'p2', after: 'p1' },
        { aspect: 'flags', before: 'none', after: 'escalation::candidate' },
      ],
    ],
    [
      'problems reported to the author',
      base,
      d({ problems: ['Current ARR is missing'] }),
      [{ aspect: 'problems', before: 'none', after: 'Current ARR is missing' }],
    ],
    [
      'form version no longer known',
      base,
      d({ versionKnown: false }),
      [{ aspect: 'form', before: 'mm_amr v2', after: 'mm_amr v2 (unknown version)' }],
    ],
    ['no longer a request', base, undefined, [{ aspect: 'form', before: 'mm_amr v2', after: 'not a request' }]],
  ] as const)('%s', (_name, before, after, expected) => {
    expect(diffDecision(before, after)).toEqual(expected);
  });
});

describe('isBreaking', () => {
  const r = (over: { open?: boolean; base?: Decision; head?: Decision }) => ({
    iid: 1,
    title: 't',
    open: over.open ?? true,
    base: over.base,
    head: over.head,
  });
  it.each([
    ['an open request whose version the head does not know', r({ base, head: d({ versionKnown: false }) }), true],
    ['an open request the head no longer reads as a request', r({ base }), true],
    [
      'an open request with new problems under the same version (edited in place)',
      r({ base, head: d({ problems: ['Region is not one of the options'] }) }),
      true,
    ],
    ['a closed request whose version is gone', r({ open: false, base, head: d({ versionKnown: false }) }), false],
    [
      'a request the base did not know either',
      r({ base: d({ versionKnown: false }), head: d({ versionKnown: false }) }),
      false,
    ],
    ['fewer problems under the head', r({ base: d({ problems: ['x'] }), head: base }), false],
    ['only routing differs', r({ base, head: d({ assignee: 'dana.cse' }) }), false],
  ])('%s: %s', (_name, request, expected) => {
    expect(isBreaking(request)).toBe(expected);
  });
});

describe('whyPhrase', () => {
  it.each([
    [
      'routing, with the strategy change',
      base,
      d({ assignee: 'dana.cse', strategy: 'round-robin' }),
      false,
      'would go to dana.cse instead of casey.cse (pool mm/amr now round-robin)',
    ],
    [
      'routing, same strategy',
      base,
      d({ assignee: 'dana.cse' }),
      false,
      'would go to dana.cse instead of casey.cse (pool mm/amr)',
    ],
    [
      'no longer qualified, with the failed gate',
      base,
      d({ qualification: 'not-qualified', reasons: [ceiling], assignee: null }),
      false,
      `would no longer qualify (${ceiling})`,
    ],
    ['now qualifies', d({ qualification: 'not-qualified', reasons: [ceiling] }), base, false, 'would now qualify'],
    ['incomplete', base, d({ qualification: 'incomplete' }), false, 'would lack information to qualify'],
    ['priority', base, d({ priority: 'p1' }), false, 'priority would be p1 instead of p2'],
    ['problems', d({ problems: ['a', 'b'] }), base, false, 'the author would be told of 0 problem(s) instead of 2'],
    ['version gone', base, d({ versionKnown: false }), true, 'form mm_amr v2 would no longer be recognised'],
    [
      'edited in place',
      base,
      d({ problems: ['x'] }),
      true,
      'would report new problems to the author under the same form mm_amr v2',
    ],
    ['not a request any more', base, undefined, true, 'would no longer be read as a request (mm_amr v2 unknown)'],
  ] as const)('%s', (_name, before, after, breaking, expected) => {
    expect(whyPhrase(before, after, breaking)).toBe(expected);
  });
});

describe('simulate', () => {
  const requests = [
    { iid: 3, title: 'Northwind', open: true, base, head: d({ assignee: 'dana.cse', strategy: 'round-robin' }) },
    { iid: 5, title: 'Contoso', open: true, base, head: d({ assignee: 'dana.cse', strategy: 'round-robin' }) },
    {
      iid: 7,
      title: 'Fabrikam',
      open: true,
      base,
      head: d({ qualification: 'not-qualified', reasons: [ceiling], assignee: null, state: 'not-qualified' }),
    },
    { iid: 8, title: 'Same', open: true, base, head: base },
    {
      iid: 9,
      title: 'Old form',
      open: true,
      base: d({ form: { id: 'mm_amr', version: 1 } }),
      head: d({ form: { id: 'mm_amr', version: 1 }, versionKnown: false }),
    },
  ];

  it('counts identical decisions, lists the others breaking first, and says why in one sentence', () => {
    const s = simulate(requests);
    expect(s.total).toBe(5);
    expect(s.unchanged).toBe(1);
    expect(s.diffs.map((x) => [x.iid, x.breaking])).toEqual([
      [9, true],
      [3, false],
      [5, false],
      [7, false],
    ]);
    expect(s.summary).toBe(
      `4 of 5 request(s) would change (1 breaking): 2 would go to dana.cse instead of casey.cse (pool mm/amr now round-robin); 1 form mm_amr v1 would no longer be recognised; 1 would no longer qualify (${ceiling})`,
    );
  });

  it('says so when nothing changes', () => {
    expect(summaryOf(12, [])).toBe('none of 12 request(s) would change');
    expect(simulate([requests[3]!]).diffs).toEqual([]);
  });

  it('renders a table whose user text cannot mention, link or break the table', () => {
    const md = simulationMarkdown(simulate([{ ...requests[0]!, title: 'Hi @all | see #12' }]), {
      base: 'main',
      head: 'feature',
    });
    expect(md).toContain(
      '| #3 Hi @\u200Ball \\| see #\u200B12 | would go to dana.cse instead of casey.cse (pool mm/amr now round-robin) | assignee: casey.cse (pool mm/amr, least-loaded) → dana.cse (pool mm/amr, round-robin) |',
    );
    expect(md).toContain('0 unchanged request(s) not listed');
    expect(md.split('\n').filter((l) => l.startsWith('| #'))).toHaveLength(1);
  });
});

describe('diffDecision, routing', () => {
  it('a new strategy that picks the same person is no change', () => {
    expect(diffDecision(base, d({ strategy: 'round-robin' }))).toEqual([]);
  });
});
