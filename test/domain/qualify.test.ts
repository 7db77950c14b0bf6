import { describe, expect, it } from 'vitest';
import { SIGNALS, type RawConfig, type Signal } from '../../src/domain/config-schema.js';
import { compileConfig, type Config } from '../../src/domain/config.js';
import {
  formatPercent,
  formatUsd,
  qualify,
  type Flag,
  type Qualification,
  type RuleResult,
  type Verdict,
} from '../../src/domain/qualify.js';
import type { DetectedForm, FieldValue, ParsedRequest } from '../../src/domain/request.js';
import { exampleConfig } from '../helpers/config.js';

const TODAY = '2026-06-15';

const FIELDS: RawConfig['fields'] = {
  customer_name: { label: 'Customer name', type: 'text' },
  crm_account: { label: 'Salesforce account', type: 'text' },
  arr: { label: 'ARR', type: 'currency' },
  lam: { label: 'LAM', type: 'currency' },
  licenses_purchased: { label: 'Licenses purchased', type: 'number' },
  licenses_in_use: { label: 'Licenses in use', type: 'number' },
  utilization: { label: 'Utilization', type: 'percent' },
  subscription_start: { label: 'Subscription start', type: 'date' },
  renewal_date: { label: 'Renewal date', type: 'date' },
  request_type: {
    label: 'Request type',
    type: 'select',
    options: [
      { value: 'onboarding', label: 'Onboarding' },
      { value: 'at-risk', label: 'At-risk customer' },
    ],
  },
  public_sector: {
    label: 'Public sector',
    type: 'select',
    options: [
      { value: 'no', label: 'No' },
      { value: 'yes', label: 'Yes' },
    ],
  },
  propensity_to_churn: { label: 'PtC', type: 'select', options: ['Low', 'Medium', 'High'] },
  propensity_to_expand: { label: 'PtE', type: 'select', options: ['Low', 'Medium', 'High'] },
};

/** A small valid configuration; `patch` replaces top-level sections (rules are merged one level deep). */
function makeConfig(patch: Partial<RawConfig> = {}): Config {
  const raw: RawConfig = {
    version: 1,
    bot: { username: 'scale-bot' },
    fields: FIELDS,
    forms: {},
    segments: { mm: { name: 'Mid-Market', arr: { min: 30_000, max: 250_000 } } },
    regions: { amr: { name: 'AMER' } },
    people: [
      { username: 'alex.ae', roles: ['ae'] },
      { username: 'sam.sal', roles: ['sal'] },
      { username: 'casey.cse', roles: ['cse'] },
      { username: 'harper.mgr', roles: ['manager'] },
    ],
    routing: { fallback: ['harper.mgr'] },
    ...patch,
  };
  const result = compileConfig(raw);
  expect(result.ok, JSON.stringify(result.ok ? [] : result.problems)).toBe(true);
  if (!result.ok) throw new Error('test config does not compile');
  return result.config;
}

const MM_AMR: DetectedForm = {
  id: 'mm_amr',
  version: 1,
  title: 'Mid-Market, AMER',
  segment: 'mm',
  region: 'amr',
  detectedBy: 'marker',
};

/** A request that passes every gate and raises no signal; `fields` overrides single values. */
function makeRequest(
  fields: Record<string, FieldValue | null> = {},
  form: DetectedForm | null = MM_AMR,
): ParsedRequest {
  return {
    form,
    fields: {
      customer_name: 'Acme',
      arr: 100_000,
      lam: 50_000,
      licenses_purchased: 100,
      licenses_in_use: 90,
      utilization: null,
      subscription_start: '2025-01-01',
      renewal_date: '2027-01-01',
      request_type: 'onboarding',
      public_sector: 'no',
      propensity_to_churn: 'low',
      propensity_to_expand: 'low',
      ...fields,
    },
    problems: [],
  };
}

function rule(q: Qualification, id: string): RuleResult {
  const found = q.rules.find((r) => r.id === id);
  if (!found) throw new Error(`no rule ${id}`);
  return found;
}

const base = makeConfig();

describe('formatting', () => {
  it.each([
    [1_200_000, '$1,200,000'],
    [0, '$0'],
    [30_000, '$30,000'],
    [99.5, '$99.50'],
  ])('formatUsd(%s) = %s', (n, text) => expect(formatUsd(n)).toBe(text));

  it.each([
    [68, '68%'],
    [74.9, '74.9%'],
    [100, '100%'],
  ])('formatPercent(%s) = %s', (n, text) => expect(formatPercent(n)).toBe(text));
});

describe('rules list', () => {
  it('lists the gates first, then every signal in SIGNALS order', () => {
    const q = qualify(makeRequest(), 'alex.ae', base, TODAY);
    expect(q.rules.map((r) => r.id)).toEqual(['account-owner', 'not-public-sector', 'arr-in-range', ...SIGNALS]);
    expect(q.rules.map((r) => r.kind)).toEqual([
      ...Array<string>(3).fill('gate'),
      ...Array<string>(SIGNALS.length).fill('signal'),
    ]);
    for (const r of q.rules) {
      expect(r.title).not.toBe('');
      expect(r.threshold).not.toBe('');
      expect(r.detail).not.toBe('');
    }
  });

  it('gives null input exactly when nothing was read', () => {
    const empty: ParsedRequest = { form: MM_AMR, fields: {}, problems: [] };
    const q = qualify(empty, null, base, TODAY);
    expect(q.rules.filter((r) => r.input !== null).map((r) => r.id)).toEqual([]);
    expect(q.rules.every((r) => r.verdict === 'unknown')).toBe(true);
  });
});

describe('gate: account-owner', () => {
  it.each<{ author: string | null; verdict: Verdict; input: string | null; detail: RegExp }>([
    { author: 'alex.ae', verdict: 'pass', input: 'alex.ae (AE)', detail: /account owner/ },
    { author: 'sam.sal', verdict: 'pass', input: 'sam.sal (SAL)', detail: /account owner/ },
    { author: 'ALEX.AE', verdict: 'pass', input: 'alex.ae (AE)', detail: /account owner/ },
    { author: 'casey.cse', verdict: 'fail', input: 'casey.cse (CSE)', detail: /not an account owner.*AE or SAL/ },
    { author: 'harper.mgr', verdict: 'fail', input: 'harper.mgr (manager)', detail: /AE or SAL/ },
    {
      author: 'ghost',
      verdict: 'fail',
      input: 'ghost (not in people)',
      detail: /not in the bot's people list.*AE or SAL/,
    },
    { author: null, verdict: 'unknown', input: null, detail: /not known/ },
  ])('$author → $verdict', ({ author, verdict, input, detail }) => {
    const r = rule(qualify(makeRequest(), author, base, TODAY), 'account-owner');
    expect(r).toMatchObject({ kind: 'gate', verdict, input });
    expect(r.detail).toMatch(detail);
    expect(r.threshold).toContain('AE or SAL');
  });

  it('follows rules.ownerRoles', () => {
    const salOnly = makeConfig({ rules: { ownerRoles: ['sal'] } });
    expect(rule(qualify(makeRequest(), 'alex.ae', salOnly, TODAY), 'account-owner').verdict).toBe('fail');
    expect(rule(qualify(makeRequest(), 'sam.sal', salOnly, TODAY), 'account-owner').verdict).toBe('pass');
  });
});

describe('gate: not-public-sector', () => {
  it.each<{ value: FieldValue | null; verdict: Verdict; input: string | null }>([
    { value: 'no', verdict: 'pass', input: 'No' },
    { value: 'yes', verdict: 'fail', input: 'Yes' },
    { value: null, verdict: 'unknown', input: null },
  ])('public sector $value → $verdict', ({ value, verdict, input }) => {
    const r = rule(qualify(makeRequest({ public_sector: value }), 'alex.ae', base, TODAY), 'not-public-sector');
    expect(r).toMatchObject({ kind: 'gate', verdict, input });
  });

  it('is unknown when the field is absent from the form', () => {
    const request = makeRequest();
    delete request.fields.public_sector;
    expect(rule(qualify(request, 'alex.ae', base, TODAY), 'not-public-sector').verdict).toBe('unknown');
  });
});

describe('gate: arr-in-range (Mid-Market $30,000–$250,000)', () => {
  it.each<{ arr: number | null; verdict: Verdict; detail: RegExp }>([
    { arr: 29_999, verdict: 'fail', detail: /below the Mid-Market minimum of \$30,000/ },
    { arr: 30_000, verdict: 'pass', detail: /within/ },
    { arr: 120_000, verdict: 'pass', detail: /within/ },
    { arr: 250_000, verdict: 'pass', detail: /within/ },
    { arr: 250_001, verdict: 'fail', detail: /above the Mid-Market ceiling of \$250,000/ },
    { arr: 1_200_000, verdict: 'fail', detail: /\$1,200,000 is above/ },
    { arr: null, verdict: 'unknown', detail: /ARR/ },
  ])('ARR $arr → $verdict', ({ arr, verdict, detail }) => {
    const r = rule(qualify(makeRequest({ arr }), 'alex.ae', base, TODAY), 'arr-in-range');
    expect(r).toMatchObject({
      verdict,
      threshold: 'ARR between $30,000 and $250,000 (Mid-Market)',
      input: arr === null ? null : formatUsd(arr),
    });
    expect(r.detail).toMatch(detail);
  });

  it.each<{ name: string; form: DetectedForm | null }>([
    { name: 'no form', form: null },
    { name: 'a segment the config lacks', form: { ...MM_AMR, segment: 'pubsec' } },
  ])('is unknown with $name', ({ form }) => {
    const r = rule(qualify(makeRequest({}, form), 'alex.ae', base, TODAY), 'arr-in-range');
    expect(r).toMatchObject({ verdict: 'unknown', input: '$100,000' });
    expect(r.detail).toMatch(/segment is not known/);
  });
});

interface SignalCase {
  name: string;
  fields: Record<string, FieldValue | null>;
  verdict: Verdict;
  input?: string | null;
  detail?: RegExp;
  form?: DetectedForm | null;
  today?: string;
}

function signalTable(signal: Signal, cases: SignalCase[], config: () => Config = () => base): void {
  it.each(cases)(`${signal}: $name → $verdict`, ({ fields, verdict, input, detail, form, today }) => {
    const q = qualify(makeRequest(fields, form === undefined ? MM_AMR : form), 'alex.ae', config(), today ?? TODAY);
    const r = rule(q, signal);
    expect(r.kind).toBe('signal');
    expect(r.verdict).toBe(verdict);
    expect(q.signals.includes(signal)).toBe(verdict === 'pass');
    if (input !== undefined) expect(r.input).toBe(input);
    if (detail) expect(r.detail).toMatch(detail);
  });
}

describe('signals (today 2026-06-15)', () => {
  // 3 months from 2026-06-15 is 2026-09-15.
  signalTable('renewal-soon', [
    { name: 'in 2 months', fields: { renewal_date: '2026-08-15' }, verdict: 'pass', detail: /within 3 months/ },
    { name: 'exactly 3 months away', fields: { renewal_date: '2026-09-15' }, verdict: 'pass', input: '2026-09-15' },
    {
      name: 'a day after 3 months',
      fields: { renewal_date: '2026-09-16' },
      verdict: 'fail',
      detail: /more than 3 months away/,
    },
    { name: 'today', fields: { renewal_date: '2026-06-15' }, verdict: 'pass' },
    { name: 'already passed', fields: { renewal_date: '2026-06-14' }, verdict: 'pass', detail: /already passed/ },
    { name: 'missing', fields: { renewal_date: null }, verdict: 'unknown', input: null },
    // Month arithmetic clamps to the month end: 2026-11-30 + 3 months is 2027-02-28.
    { name: 'end of month clamps', fields: { renewal_date: '2027-02-28' }, verdict: 'pass', today: '2026-11-30' },
    { name: 'past the clamped end', fields: { renewal_date: '2027-03-01' }, verdict: 'fail', today: '2026-11-30' },
  ]);

  it('shows the renewal limit in the threshold', () => {
    const r = rule(qualify(makeRequest(), 'alex.ae', base, TODAY), 'renewal-soon');
    expect(r.threshold).toBe('Renewal on or before 2026-09-15 (within 3 months)');
  });

  // 80% of the $250,000 ceiling is $200,000.
  signalTable('large-account', [
    { name: 'exactly 80% of the ceiling', fields: { arr: 200_000 }, verdict: 'pass', input: '$200,000' },
    { name: 'just below 80%', fields: { arr: 199_999 }, verdict: 'fail' },
    { name: 'at the ceiling', fields: { arr: 250_000 }, verdict: 'pass' },
    { name: 'above the ceiling', fields: { arr: 1_200_000 }, verdict: 'pass' },
    { name: 'ARR missing', fields: { arr: null }, verdict: 'unknown', input: null },
    { name: 'no form (ceiling unknown)', fields: { arr: 200_000 }, form: null, verdict: 'unknown' },
  ]);

  it('shows the large-account floor in the threshold', () => {
    const r = rule(qualify(makeRequest(), 'alex.ae', base, TODAY), 'large-account');
    expect(r.threshold).toBe('ARR at least $200,000 (80% of the Mid-Market ceiling of $250,000)');
  });

  signalTable('high-growth', [
    { name: 'LAM above $100K', fields: { lam: 100_001 }, verdict: 'pass', input: '$100,001' },
    { name: 'LAM exactly $100K', fields: { lam: 100_000 }, verdict: 'fail' },
    { name: 'LAM below', fields: { lam: 20_000 }, verdict: 'fail' },
    { name: 'LAM missing', fields: { lam: null }, verdict: 'unknown', input: null },
  ]);

  signalTable('large-account-high-growth', [
    { name: 'both', fields: { arr: 220_000, lam: 150_000 }, verdict: 'pass', input: 'ARR $220,000, LAM $150,000' },
    { name: 'large only', fields: { arr: 220_000, lam: 50_000 }, verdict: 'fail', detail: /growth/ },
    { name: 'growth only', fields: { arr: 100_000, lam: 150_000 }, verdict: 'fail', detail: /large/ },
    {
      name: 'ARR missing, growth',
      fields: { arr: null, lam: 150_000 },
      verdict: 'unknown',
      input: 'ARR not given, LAM $150,000',
    },
    // A known failure decides even when the other half is unknown.
    { name: 'ARR missing, no growth', fields: { arr: null, lam: 50_000 }, verdict: 'fail' },
    { name: 'both missing', fields: { arr: null, lam: null }, verdict: 'unknown', input: null },
  ]);

  // 6 months before 2026-06-15 is 2025-12-15.
  signalTable('low-utilization', [
    {
      name: '74.9% after a year',
      fields: { utilization: 74.9 },
      verdict: 'pass',
      input: '74.9%; subscription started 2025-01-01',
    },
    { name: 'exactly 75%', fields: { utilization: 75 }, verdict: 'fail', detail: /not below 75%/ },
    {
      name: 'low, exactly 6 months old',
      fields: { utilization: 50, subscription_start: '2025-12-15' },
      verdict: 'pass',
    },
    {
      name: 'low, a day short of 6 months',
      fields: { utilization: 50, subscription_start: '2025-12-16' },
      verdict: 'fail',
      detail: /less than 6 months/,
    },
    {
      name: 'computed from licenses',
      fields: { licenses_purchased: 1000, licenses_in_use: 740 },
      verdict: 'pass',
      input: '74% (740 of 1000 licenses in use); subscription started 2025-01-01',
    },
    { name: 'computed exactly 75%', fields: { licenses_purchased: 1000, licenses_in_use: 750 }, verdict: 'fail' },
    {
      name: 'computed, rounded to 1 decimal',
      fields: { licenses_purchased: 3, licenses_in_use: 2 },
      verdict: 'pass',
      input: '66.7% (2 of 3 licenses in use); subscription started 2025-01-01',
    },
    {
      name: 'given utilization wins over licenses',
      fields: { utilization: 90, licenses_purchased: 100, licenses_in_use: 1 },
      verdict: 'fail',
    },
    {
      name: 'nothing to compute from',
      fields: { licenses_purchased: null, licenses_in_use: null },
      verdict: 'unknown',
      detail: /licenses/,
    },
    { name: 'licenses in use missing', fields: { licenses_in_use: null }, verdict: 'unknown' },
    { name: 'no licenses purchased', fields: { licenses_purchased: 0, licenses_in_use: 0 }, verdict: 'unknown' },
    {
      name: 'low, start missing',
      fields: { utilization: 50, subscription_start: null },
      verdict: 'unknown',
      detail: /start date is missing/,
    },
    {
      name: 'utilization and start missing',
      fields: { licenses_purchased: null, subscription_start: null },
      verdict: 'unknown',
      input: null,
    },
    // Utilization at or above the threshold cannot become low, whatever the start date.
    { name: 'high, start missing', fields: { utilization: 90, subscription_start: null }, verdict: 'fail' },
    // 2025-08-31 + 6 months clamps to 2026-02-28.
    {
      name: 'month-end start',
      fields: { utilization: 50, subscription_start: '2025-08-31' },
      verdict: 'pass',
      today: '2026-02-28',
    },
  ]);

  signalTable('churn-risk', [
    { name: 'high', fields: { propensity_to_churn: 'high' }, verdict: 'pass', input: 'High' },
    { name: 'medium', fields: { propensity_to_churn: 'medium' }, verdict: 'fail', input: 'Medium' },
    { name: 'missing', fields: { propensity_to_churn: null }, verdict: 'unknown', input: null },
  ]);

  signalTable('expansion-potential', [
    { name: 'high', fields: { propensity_to_expand: 'high' }, verdict: 'pass', input: 'High' },
    { name: 'low', fields: { propensity_to_expand: 'low' }, verdict: 'fail' },
    { name: 'missing', fields: { propensity_to_expand: null }, verdict: 'unknown' },
  ]);

  signalTable('at-risk-request', [
    { name: 'at-risk', fields: { request_type: 'at-risk' }, verdict: 'pass', input: 'At-risk customer' },
    { name: 'onboarding', fields: { request_type: 'onboarding' }, verdict: 'fail', input: 'Onboarding' },
    { name: 'missing', fields: { request_type: null }, verdict: 'unknown', input: null },
  ]);

  // Propensity lists may name options by label or value; both mean the same option.
  signalTable(
    'churn-risk',
    [
      { name: 'medium with [Medium, High]', fields: { propensity_to_churn: 'medium' }, verdict: 'pass' },
      { name: 'low with [Medium, High]', fields: { propensity_to_churn: 'low' }, verdict: 'fail' },
    ],
    () => makeConfig({ rules: { churnPropensity: ['Medium', 'high'] } }),
  );
});

describe('thresholds from rules', () => {
  it.each<{ rules: RawConfig['rules']; fields: Record<string, FieldValue | null>; signal: Signal; verdict: Verdict }>([
    {
      rules: { renewalWithinMonths: 1 },
      fields: { renewal_date: '2026-07-15' },
      signal: 'renewal-soon',
      verdict: 'pass',
    },
    {
      rules: { renewalWithinMonths: 1 },
      fields: { renewal_date: '2026-07-16' },
      signal: 'renewal-soon',
      verdict: 'fail',
    },
    { rules: { largeAccountArrShare: 0.5 }, fields: { arr: 125_000 }, signal: 'large-account', verdict: 'pass' },
    { rules: { largeAccountArrShare: 0.7 }, fields: { arr: 175_000 }, signal: 'large-account', verdict: 'pass' },
    { rules: { highGrowthLam: 40_000 }, fields: { lam: 50_000 }, signal: 'high-growth', verdict: 'pass' },
    { rules: { lowUtilizationPercent: 95 }, fields: { utilization: 90 }, signal: 'low-utilization', verdict: 'pass' },
    { rules: { utilizationAfterMonths: 24 }, fields: { utilization: 50 }, signal: 'low-utilization', verdict: 'fail' },
    {
      rules: { expandPropensity: ['medium'] },
      fields: { propensity_to_expand: 'medium' },
      signal: 'expansion-potential',
      verdict: 'pass',
    },
  ])('$signal with $rules → $verdict', ({ rules, fields, signal, verdict }) => {
    const q = qualify(makeRequest(fields), 'alex.ae', makeConfig({ rules }), TODAY);
    expect(rule(q, signal).verdict).toBe(verdict);
  });
});

describe('fieldMap', () => {
  it('reads values through config.fieldMap, not fixed field ids', () => {
    const config = makeConfig({
      fields: { ...FIELDS, current_arr: { label: 'Current ARR', type: 'currency' } },
      fieldMap: { arr: 'current_arr' },
    });
    const q = qualify(makeRequest({ arr: 1_000_000, current_arr: 40_000 }), 'alex.ae', config, TODAY);
    expect(rule(q, 'arr-in-range')).toMatchObject({ verdict: 'pass', input: '$40,000' });
  });
});

describe('priority', () => {
  const config = makeConfig({
    rules: {
      priority: {
        levels: ['high', 'medium', 'low'],
        rules: [
          { when: { any: ['renewal-soon', 'churn-risk'] }, then: 'high' },
          { when: { all: ['large-account', 'high-growth'] }, then: 'medium' },
          { when: { any: ['expansion-potential'] }, then: 'low' },
        ],
        default: 'medium',
      },
    },
  });
  const soon = { renewal_date: '2026-07-01' };
  const expand = { propensity_to_expand: 'high' };

  it.each<{ name: string; fields: Record<string, FieldValue | null>; priority: string }>([
    { name: 'first rule (any, first signal)', fields: soon, priority: 'high' },
    { name: 'first rule (any, second signal)', fields: { propensity_to_churn: 'high' }, priority: 'high' },
    { name: 'earlier rule wins over a later one', fields: { ...soon, ...expand }, priority: 'high' },
    { name: 'all of a rule', fields: { arr: 220_000, lam: 150_000 }, priority: 'medium' },
    { name: 'only part of an all rule → default', fields: { arr: 220_000 }, priority: 'medium' },
    { name: 'third rule', fields: expand, priority: 'low' },
    { name: 'second before third', fields: { arr: 220_000, lam: 150_000, ...expand }, priority: 'medium' },
    { name: 'no signal → default', fields: {}, priority: 'medium' },
  ])('$name → $priority', ({ fields, priority }) => {
    expect(qualify(makeRequest(fields), 'alex.ae', config, TODAY).priority).toBe(priority);
  });

  it('uses the schema default (no rules, default low) when rules.priority is not configured', () => {
    expect(qualify(makeRequest(soon), 'alex.ae', base, TODAY).priority).toBe('low');
  });

  it('is computed for requests that are not qualified too', () => {
    const q = qualify(makeRequest(soon), 'casey.cse', config, TODAY);
    expect(q).toMatchObject({ status: 'not-qualified', priority: 'high' });
  });
});

describe('flags', () => {
  it.each<{ name: string; fields: Record<string, FieldValue | null>; flags: Flag[] }>([
    { name: 'none', fields: {}, flags: [] },
    { name: 'large account with high growth', fields: { arr: 220_000, lam: 150_000 }, flags: ['escalation-candidate'] },
    { name: 'large account only', fields: { arr: 220_000 }, flags: [] },
    { name: 'low utilization', fields: { utilization: 50 }, flags: ['at-risk'] },
    { name: 'churn risk', fields: { propensity_to_churn: 'high' }, flags: ['at-risk'] },
    { name: 'at-risk request', fields: { request_type: 'at-risk' }, flags: ['at-risk'] },
    {
      name: 'both',
      fields: { arr: 220_000, lam: 150_000, request_type: 'at-risk' },
      flags: ['escalation-candidate', 'at-risk'],
    },
  ])('default conditions: $name → $flags', ({ fields, flags }) => {
    expect(qualify(makeRequest(fields), 'alex.ae', base, TODAY).flags).toEqual(flags);
  });

  it.each<{ fields: Record<string, FieldValue | null>; flags: Flag[] }>([
    { fields: { renewal_date: '2026-07-01' }, flags: [] },
    { fields: { renewal_date: '2026-07-01', propensity_to_churn: 'high' }, flags: ['at-risk'] },
    { fields: { propensity_to_expand: 'high' }, flags: ['escalation-candidate'] },
  ])('configured conditions: $fields → $flags', ({ fields, flags }) => {
    const config = makeConfig({
      rules: {
        flags: {
          'escalation-candidate': { any: ['expansion-potential'] },
          'at-risk': { all: ['renewal-soon', 'churn-risk'] },
        },
      },
    });
    expect(qualify(makeRequest(fields), 'alex.ae', config, TODAY).flags).toEqual(flags);
  });
});

describe('status', () => {
  it.each<{
    author: string | null;
    publicSector: string | null;
    arr: number | null;
    status: Qualification['status'];
    failed: string[];
  }>([
    { author: 'alex.ae', publicSector: 'no', arr: 100_000, status: 'qualified', failed: [] },
    { author: null, publicSector: 'no', arr: 100_000, status: 'incomplete', failed: [] },
    { author: 'alex.ae', publicSector: null, arr: 100_000, status: 'incomplete', failed: [] },
    { author: 'alex.ae', publicSector: 'no', arr: null, status: 'incomplete', failed: [] },
    { author: 'casey.cse', publicSector: 'no', arr: 100_000, status: 'not-qualified', failed: ['account-owner'] },
    { author: 'alex.ae', publicSector: 'yes', arr: 100_000, status: 'not-qualified', failed: ['not-public-sector'] },
    { author: 'alex.ae', publicSector: 'no', arr: 1_000, status: 'not-qualified', failed: ['arr-in-range'] },
    // A failure outweighs anything unknown.
    { author: null, publicSector: 'yes', arr: null, status: 'not-qualified', failed: ['not-public-sector'] },
    {
      author: 'ghost',
      publicSector: 'yes',
      arr: 900_000,
      status: 'not-qualified',
      failed: ['account-owner', 'not-public-sector', 'arr-in-range'],
    },
  ])('$author / $publicSector / $arr → $status', ({ author, publicSector, arr, status, failed }) => {
    const q = qualify(makeRequest({ public_sector: publicSector, arr }), author, base, TODAY);
    expect(q.status).toBe(status);
    expect(q.qualified).toBe(status === 'qualified');
    expect(q.reasons).toEqual(failed.map((id) => rule(q, id).detail));
  });

  it('does not let signals affect the status', () => {
    const empty = makeRequest({
      renewal_date: null,
      lam: null,
      utilization: null,
      licenses_in_use: null,
      request_type: null,
    });
    expect(qualify(empty, 'alex.ae', base, TODAY).status).toBe('qualified');
  });

  it('reads only the date of a timestamp given as today', () => {
    const request = makeRequest({ renewal_date: '2026-09-15' });
    expect(qualify(request, 'alex.ae', base, '2026-06-15T23:30:00Z')).toEqual(qualify(request, 'alex.ae', base, TODAY));
  });
});

describe('with the shipped example config', () => {
  const example = exampleConfig();
  const form = (id: string, segment: string, region: string): DetectedForm => ({
    id,
    version: 1,
    title: id,
    segment,
    region,
    detectedBy: 'marker',
  });

  it('rejects a Mid-Market request above the segment ceiling', () => {
    const q = qualify(makeRequest({ arr: 1_200_000 }, form('mm_amr', 'mm', 'amr')), 'alex.ae', example, TODAY);
    expect(q.status).toBe('not-qualified');
    expect(rule(q, 'arr-in-range')).toMatchObject({
      threshold: 'ARR between $30,000 and $250,000 (Mid-Market)',
      input: '$1,200,000',
      verdict: 'fail',
    });
    expect(q.reasons).toHaveLength(1);
  });

  it('qualifies a large, growing SMB account renewing soon as high priority and an escalation candidate', () => {
    const request = makeRequest(
      { arr: 90_000, lam: 150_000, renewal_date: '2026-08-01', propensity_to_expand: 'high' },
      form('smbeast_amr', 'smb', 'amr-east'),
    );
    const q = qualify(request, 'jordan.ae', example, TODAY);
    expect(q).toMatchObject({ status: 'qualified', priority: 'high', flags: ['escalation-candidate'] });
    expect(q.signals).toEqual([
      'renewal-soon',
      'large-account',
      'high-growth',
      'large-account-high-growth',
      'expansion-potential',
    ]);
    expect(rule(q, 'churn-risk').threshold).toBe('Propensity to churn is High');
    expect(rule(q, 'at-risk-request').threshold).toBe('Request type is "At-risk customer"');
  });

  it.each<{ fields: Record<string, FieldValue | null>; priority: string }>([
    { fields: {}, priority: 'low' },
    { fields: { propensity_to_expand: 'high' }, priority: 'medium' },
    { fields: { utilization: 60 }, priority: 'high' },
  ])('example priority for $fields → $priority', ({ fields, priority }) => {
    expect(qualify(makeRequest(fields, form('mm_amr', 'mm', 'amr')), 'alex.ae', example, TODAY).priority).toBe(
      priority,
    );
  });

  it('turns away a request filed by a CSE', () => {
    const q = qualify(makeRequest({}, form('ent_amr', 'ent', 'amr')), 'casey.cse', example, TODAY);
    expect(q.status).toBe('not-qualified');
    expect(q.reasons[0]).toMatch(/casey\.cse is listed as CSE, not an account owner/);
  });
});
