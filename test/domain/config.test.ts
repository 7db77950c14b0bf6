import { describe, expect, it } from 'vitest';
import * as yaml from 'js-yaml';
import { readFileSync } from 'node:fs';
import { compileConfig } from '../../src/domain/config.js';
import { EXAMPLE_CONFIG_PATH } from '../helpers/config.js';

/** The shipped example as a plain object, to break in one place per case. */
function example(): Record<string, any> {
  return yaml.load(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'), { schema: yaml.CORE_SCHEMA }) as Record<string, any>;
}

function problems(mutate: (c: Record<string, any>) => void): Array<{ path: string; message: string }> {
  const c = example();
  mutate(c);
  const result = compileConfig(c);
  if (result.ok) return [];
  return result.problems;
}

describe('compileConfig', () => {
  it('accepts the shipped example and resolves fieldsets and versions', () => {
    const result = compileConfig(example());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const mm = result.config.forms.find((f) => f.id === 'mm_amr')!;
    expect(mm.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(mm.versions[1]!.fields.find((f) => f.id === 'licenses_in_use')!.label).toBe('Seats in use');
    expect(mm.versions[0]!.fields.find((f) => f.id === 'licenses_in_use')!.label).toBe('Licenses in use');
    const ent = result.config.forms.find((f) => f.id === 'ent_amr')!;
    expect(ent.versions[0]!.fields.map((f) => f.id)).toContain('solutions_architect');
    expect(result.config.person('ALEX.AE')?.roles).toEqual(['ae']);
    expect(result.config.catalog.segmentLabel('mm')).toBe('segment::mm');
  });

  it('applies defaults for optional sections', () => {
    const result = compileConfig({ ...example(), rules: undefined, labels: undefined });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.rules.renewalWithinMonths).toBe(3);
    expect(result.config.rules.largeAccountArrShare).toBe(0.8);
    expect(result.config.rules.highGrowthLam).toBe(100000);
    expect(result.config.rules.lowUtilizationPercent).toBe(75);
    expect(result.config.rules.utilizationAfterMonths).toBe(6);
    expect(result.config.labels.engagement).toBe('engagement');
  });

  it.each([
    ['wrong version', (c: any) => (c.version = 2), 'version'],
    ['unknown field type', (c: any) => (c.fields.arr.type = 'money'), 'fields.arr.type'],
    ['unknown top-level key', (c: any) => (c.colour = 'blue'), '(top level)'],
    [
      'bad regex',
      (c: any) => (c.fields.crm_account.validations.pattern = '(['),
      'fields.crm_account.validations.pattern',
    ],
    ['unknown role', (c: any) => (c.people[0].roles = ['boss']), 'people[0].roles[0]'],
    [
      'bad out-of-office date',
      (c: any) => (c.people[6].outOfOffice[0].from = '2026-02-30'),
      'people[6].outOfOffice[0].from',
    ],
    ['unknown strategy', (c: any) => (c.routing.pools[0].strategy = 'random'), 'routing.pools[0].strategy'],
    ['no fallback', (c: any) => (c.routing.fallback = []), 'routing.fallback'],
  ])('reports a shape problem with its path: %s', (_name, mutate, path) => {
    const found = problems(mutate);
    expect(found.map((p) => p.path)).toContain(path);
  });

  it.each([
    [
      'unknown field in a form',
      (c: any) => c.forms.ent_amr.versions[0].fields.push('budget'),
      'forms.ent_amr.versions[0].fields[3]',
      'unknown field "budget"',
    ],
    [
      'unknown fieldset',
      (c: any) => (c.forms.ent_amr.versions[0].fields[0] = { fieldset: 'nope' }),
      'forms.ent_amr.versions[0].fields[0].fieldset',
      'unknown fieldset',
    ],
    [
      'self-including fieldset',
      (c: any) => c.fieldsets.request.push({ fieldset: 'request' }),
      'fieldsets.request[19].fieldset',
      'includes itself',
    ],
    [
      'field listed twice',
      (c: any) => c.forms.smbeast_amr.versions[0].fields.push('arr'),
      'forms.smbeast_amr.versions[0].fields',
      'listed twice',
    ],
    ['unknown segment', (c: any) => (c.forms.mm_amr.segment = 'xl'), 'forms.mm_amr.segment', 'unknown segment "xl"'],
    [
      'two forms for one segment/region',
      (c: any) => (c.forms.smbwest_amr.region = 'amr-east'),
      'forms.smbwest_amr',
      'both cover smb/amr-east',
    ],
    ['select without options', (c: any) => delete c.fields.plan.options, 'fields.plan.options', 'needs options'],
    [
      'after on a non-date',
      (c: any) => (c.fields.renewal_date.validations.after = 'arr'),
      'fields.renewal_date.validations.after',
      'not a date field',
    ],
    [
      'min above max',
      (c: any) => (c.fields.utilization.validations = { min: 10, max: 5 }),
      'fields.utilization.validations',
      'greater than max',
    ],
    [
      'pool member not a cse',
      (c: any) => (c.routing.pools[0].members = ['alex.ae']),
      'routing.pools[0].members[0]',
      'not a cse',
    ],
    [
      'pool member unknown',
      (c: any) => (c.routing.pools[1].members = ['ghost']),
      'routing.pools[1].members[0]',
      'not in people',
    ],
    [
      'backup chain not ending at a manager',
      (c: any) => (c.routing.pools[2].backup = ['gray.cse']),
      'routing.pools[2].backup[0]',
      'must end at a manager',
    ],
    [
      'duplicate pool',
      (c: any) => c.routing.pools.push({ ...c.routing.pools[0] }),
      'routing.pools[4]',
      'a second pool',
    ],
    ['duplicate person', (c: any) => c.people.push({ ...c.people[0] }), 'people[9].username', 'listed twice'],
    [
      'out of office ends before it starts',
      (c: any) => (c.people[6].outOfOffice[0] = { from: '2027-01-02', to: '2027-01-01' }),
      'people[6].outOfOffice[0]',
      'before it starts',
    ],
    [
      'unknown signal in priority',
      (c: any) => (c.rules.priority.rules[0].when = { any: ['rainy-day'] }),
      'rules.priority.rules[0].when.any[0]',
      'unknown signal',
    ],
    [
      'priority level not declared',
      (c: any) => (c.rules.priority.rules[0].then = 'urgent'),
      'rules.priority.rules[0].then',
      'not one of the priority levels',
    ],
    [
      'fieldMap to unknown field',
      (c: any) => (c.fieldMap = { arr: 'revenue' }),
      'fieldMap.arr',
      'unknown field "revenue"',
    ],
    [
      'duplicate pool member',
      (c: any) => (c.routing.pools[0].members = ['casey.cse', 'casey.cse']),
      'routing.pools[0].members[1]',
      'listed twice',
    ],
    [
      'propensity value not an option',
      (c: any) => (c.rules.churnPropensity = ['very high']),
      'rules.churnPropensity[0]',
      'not an option',
    ],
    ['fractional months', (c: any) => (c.rules.renewalWithinMonths = 2.5), 'rules.renewalWithinMonths', 'expected int'],
    [
      'a form no pool covers',
      (c: any) => c.routing.pools.splice(1, 1),
      'forms.mm_amr',
      'no routing pool covers mm/amr',
    ],
    [
      'pool member outside the pool segment',
      (c: any) => (c.people[5].segments = ['mm']),
      'routing.pools[2].members[0]',
      'their segments [mm] leave it out',
    ],
    [
      'pool member outside the pool region',
      (c: any) => (c.people[5].regions = ['amr-west']),
      'routing.pools[2].members[0]',
      'their regions [amr-west] leave it out',
    ],
    [
      'two fields share a heading',
      (c: any) => (c.fields.lam.aliases = ['ARR']),
      'forms.ent_amr.versions',
      'share the heading "ARR"',
    ],
  ])('reports a reference problem with its path: %s', (_name, mutate, path, message) => {
    const found = problems(mutate);
    expect(found).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('lets a pool member with no segments or regions of their own serve any pool', () => {
    const found = problems((c) => {
      c.people[5].segments = [];
      c.people[5].regions = [];
    });
    expect(found).toEqual([]);
  });

  it.each([
    [
      'two flags in one scope (the old shipped example)',
      (c: any) => Object.assign(c.labels, { atRisk: 'flag::at-risk', duplicate: 'flag::duplicate' }),
      'labels.duplicate',
      'labels.atRisk ("flag::at-risk") and labels.duplicate ("flag::duplicate") share the scope "flag"',
    ],
    [
      'a flag in a scope the bot sets',
      (c: any) => (c.labels.atRisk = 'priority::at-risk'),
      'labels.atRisk',
      'labels.priority ("priority::…") and labels.atRisk ("priority::at-risk") share the scope "priority"',
    ],
    [
      'two scopes the same',
      (c: any) => (c.labels.form = 'segment'),
      'labels.segment',
      'labels.form ("segment::…") and labels.segment ("segment::…") share the scope "segment"',
    ],
    [
      'the override in the state scope',
      (c: any) => (c.labels.override = 'engagement::override'),
      'labels.override',
      'share the scope "engagement"',
    ],
    [
      'nested scopes compare whole',
      (c: any) => Object.assign(c.labels, { atRisk: 'a::b::x', duplicate: 'a::b::y' }),
      'labels.duplicate',
      'share the scope "a::b"',
    ],
  ])('refuses labels the bot may set together that share a scope: %s', (_name, mutate, path, message) => {
    expect(problems(mutate)).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('accepts flags in scopes of their own, or none', () => {
    expect(
      problems((c) =>
        Object.assign(c.labels, { atRisk: 'risk::at-risk', duplicate: 'duplicate', escalationCandidate: 'a::b::x' }),
      ),
    ).toEqual([]);
  });

  it('reports every problem at once, not just the first', () => {
    const found = problems((c) => {
      c.forms.mm_amr.segment = 'xl';
      c.routing.pools[0].members = ['ghost'];
      c.rules.priority.default = 'urgent';
    });
    expect(found.map((p) => p.path)).toEqual(
      expect.arrayContaining(['forms.mm_amr.segment', 'routing.pools[0].members[0]', 'rules.priority.default']),
    );
  });

  it('rejects a document that is not a mapping', () => {
    for (const doc of [null, 42, 'text', []]) {
      const result = compileConfig(doc);
      expect(result.ok).toBe(false);
    }
  });
});
