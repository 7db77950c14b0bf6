import { addMonths } from 'date-fns';
import { SIGNALS, type Condition, type Role, type SegmentConfig, type Signal } from './config-schema.js';
import type { Config } from './config.js';
import { optionFromConfig, slug } from './forms.js';
import type { ParsedRequest } from './request.js';

/**
 * Qualification of a parsed request, rule by rule. Pure: `today` (YYYY-MM-DD) is a parameter.
 * Gates decide whether the request is in scope; signals feed priority and flags. Every rule says its
 * threshold, the input it saw and its verdict, so the bot's note can show the reasoning to the AE.
 */

export type Verdict = 'pass' | 'fail' | 'unknown';

export interface RuleResult {
  /** A gate id ('account-owner', 'not-public-sector', 'arr-in-range') or a Signal id. */
  id: string;
  /** Gates decide qualification; signals drive priority and flags. */
  kind: 'gate' | 'signal';
  title: string;
  threshold: string;
  /** Human text of the input value; null when unknown. */
  input: string | null;
  /** For a signal: 'pass' = raised, 'fail' = not raised, 'unknown' = input missing. */
  verdict: Verdict;
  /** One sentence explaining the verdict for a sales person. */
  detail: string;
}

export const FLAGS = ['escalation-candidate', 'at-risk'] as const;
export type Flag = (typeof FLAGS)[number];

export interface Qualification {
  /** Any gate fail → not-qualified; else any gate unknown → incomplete; else qualified. */
  status: 'qualified' | 'not-qualified' | 'incomplete';
  qualified: boolean;
  /** Gates first, then signals in `SIGNALS` order. */
  rules: RuleResult[];
  /** The raised signals. */
  signals: Signal[];
  priority: string;
  flags: Flag[];
  /** The detail of each failed gate. */
  reasons: string[];
}

/** Thousands separators by hand: Intl.NumberFormat costs a microsecond a call on the parse hot path. */
function groupThousands(digits: string): string {
  if (digits.length <= 3) return digits;
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return out;
}

/** `1200000` → `$1,200,000`; cents only when there are any (`$99.50`). */
export function formatUsd(n: number): string {
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  if (Number.isInteger(abs)) return `${sign}$${groupThousands(String(abs))}`;
  const [whole, cents] = abs.toFixed(2).split('.');
  return `${sign}$${groupThousands(whole!)}.${cents}`;
}

/** `68` → `68%`, `68.25` → `68.25%`, `1234.5` → `1,234.5%`. */
export function formatPercent(n: number): string {
  const rounded = Math.round(n * 100) / 100;
  const [whole, fraction] = String(Math.abs(rounded)).split('.');
  return `${rounded < 0 ? '-' : ''}${groupThousands(whole!)}${fraction ? `.${fraction}` : ''}%`;
}

const ROLE_NAMES: Record<Role, string> = { ae: 'AE', sal: 'SAL', cse: 'CSE', manager: 'manager' };

function listWith(word: 'or' | 'and', items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${word} ${items[items.length - 1]}`;
}

function months(n: number): string {
  return n === 1 ? '1 month' : `${n} months`;
}

/** A timestamp would compare wrongly against ISO dates, so only its date part is used. */
function isoDay(day: string): string {
  return day.slice(0, 10);
}

/** Every request asks the same few (today, n) shifts: remember them, a handful at a time. */
const shifted = new Map<string, string>();
function shiftMonths(day: string, n: number): string {
  const key = `${day}|${n}`;
  let hit = shifted.get(key);
  if (hit === undefined) {
    if (shifted.size > 64) shifted.clear();
    shifted.set(key, (hit = computeShift(day, n)));
  }
  return hit;
}

function computeShift(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const shifted = addMonths(new Date(y, m - 1, d), n);
  const pad = (v: number) => String(v).padStart(2, '0');
  return `${shifted.getFullYear()}-${pad(shifted.getMonth() + 1)}-${pad(shifted.getDate())}`;
}

type SignalResult = Omit<RuleResult, 'id' | 'kind'>;

/**
 * A rule's result built property by property: object spread (`{ ...base, verdict }`) was the
 * single largest cost of qualification on the parse benchmark.
 */
function outcome(
  base: { title: string; threshold: string; input?: string | null },
  verdict: Verdict,
  detail: string,
  input: string | null = base.input ?? null,
): SignalResult {
  return { title: base.title, threshold: base.threshold, input, verdict, detail };
}

function asRule(id: string, kind: RuleResult['kind'], r: SignalResult): RuleResult {
  return { id, kind, title: r.title, threshold: r.threshold, input: r.input, verdict: r.verdict, detail: r.detail };
}

/** Kleene AND: a known failure decides, whatever else is unknown. */
function both(a: Verdict, b: Verdict): Verdict {
  if (a === 'fail' || b === 'fail') return 'fail';
  return a === 'pass' && b === 'pass' ? 'pass' : 'unknown';
}

function holds(condition: Condition, raised: ReadonlySet<string>): boolean {
  return 'any' in condition ? condition.any.some((s) => raised.has(s)) : condition.all.every((s) => raised.has(s));
}

/** What the rules read from the request, resolved once through `config.fieldMap`. */
interface Inputs {
  config: Config;
  today: string;
  segment: (SegmentConfig & { id: string }) | null;
  arr: number | null;
  lam: number | null;
  t: Thresholds;
}

/** Rule texts that depend only on the configuration, the segment and the day. */
interface Thresholds {
  owners: string;
  accountOwner: string;
  arrRange: string;
  renewalLimit: string;
  renewal: string;
  largeFloor: number | null;
  large: string;
  growth: string;
  lowUtilizationStartedBy: string;
  lowUtilization: string;
  churn: string;
  expand: string;
  atRisk: string;
}

/** Computed once per configuration, segment and day: requests differ, their thresholds rarely do. */
const thresholdCache = new WeakMap<Config, Map<string, Thresholds>>();
function thresholdsFor(config: Config, segment: (SegmentConfig & { id: string }) | null, today: string): Thresholds {
  let byKey = thresholdCache.get(config);
  if (!byKey) thresholdCache.set(config, (byKey = new Map()));
  const key = `${segment?.id ?? ''}|${today}`;
  const hit = byKey.get(key);
  if (hit) return hit;
  if (byKey.size > 64) byKey.clear();
  const r = config.rules;
  const owners = listWith(
    'or',
    r.ownerRoles.map((role) => ROLE_NAMES[role]),
  );
  const shareText = formatPercent(r.largeAccountArrShare * 100);
  // Rounded to cents so a share such as 0.7 of a round ceiling does not miss by a float error.
  const largeFloor = segment ? Math.round(r.largeAccountArrShare * segment.arr.max * 100) / 100 : null;
  const renewalLimit = shiftMonths(today, r.renewalWithinMonths);
  const startedBy = shiftMonths(today, -r.utilizationAfterMonths);
  const fm = config.fieldMap;
  const propensityText = (what: string, fieldId: string, matching: string[]) =>
    `${what} is ${listWith(
      'or',
      sluggedList(matching).map((v) => optionLabel(config, fieldId, v)),
    )}`;
  const t: Thresholds = {
    owners,
    accountOwner: `Filed by an account owner (${owners}) listed in the bot's people`,
    arrRange: segment
      ? `ARR between ${formatUsd(segment.arr.min)} and ${formatUsd(segment.arr.max)} (${segment.name})`
      : "ARR within the range of the request's segment",
    renewalLimit,
    renewal: `Renewal on or before ${renewalLimit} (within ${months(r.renewalWithinMonths)})`,
    largeFloor,
    large:
      segment && largeFloor !== null
        ? `ARR at least ${formatUsd(largeFloor)} (${shareText} of the ${segment.name} ceiling of ${formatUsd(segment.arr.max)})`
        : `ARR at least ${shareText} of the segment ceiling`,
    growth: `LAM above ${formatUsd(r.highGrowthLam)}`,
    lowUtilizationStartedBy: startedBy,
    lowUtilization: `Utilization below ${formatPercent(r.lowUtilizationPercent)} once the subscription is ${months(r.utilizationAfterMonths)} old (started on or before ${startedBy})`,
    churn: propensityText('Propensity to churn', fm.churnPropensity, r.churnPropensity),
    expand: propensityText('Propensity to expand', fm.expandPropensity, r.expandPropensity),
    atRisk: `Request type is "${optionLabel(config, fm.requestType, 'at-risk')}"`,
  };
  byKey.set(key, t);
  return t;
}

function numberAt(request: ParsedRequest, fieldId: string): number | null {
  const v = request.fields[fieldId];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function choiceAt(request: ParsedRequest, fieldId: string): string | null {
  const v = request.fields[fieldId];
  return typeof v === 'string' && v !== '' ? v : null;
}

function dateAt(request: ParsedRequest, fieldId: string): string | null {
  const v = choiceAt(request, fieldId);
  return v !== null && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : null;
}

/** The label people saw for an option value (`high` → `High`), or the value itself. */
const optionLabels = new WeakMap<Config, Map<string, Map<string, string>>>();
function optionLabel(config: Config, fieldId: string, value: string): string {
  let byField = optionLabels.get(config);
  if (!byField) optionLabels.set(config, (byField = new Map()));
  let labels = byField.get(fieldId);
  if (!labels) {
    labels = new Map((config.fields[fieldId]?.options ?? []).map(optionFromConfig).map((o) => [o.value, o.label]));
    byField.set(fieldId, labels);
  }
  return labels.get(value) ?? value;
}

function accountOwner(author: string | null, config: Config, t: Thresholds): SignalResult {
  const { owners } = t;
  const base = {
    title: 'Filed by the account owner',
    threshold: t.accountOwner,
  } as const;
  if (author === null) {
    return outcome(
      base,
      'unknown',
      'The author of the request is not known, so the bot cannot check who filed it.',
      null,
    );
  }
  const person = config.person(author);
  if (!person) {
    return outcome(
      base,
      'fail',
      `${author} is not in the bot's people list; only account owners (${owners}) file Scale engagement requests, so ask the account's ${owners} to file it.`,
      `${author} (not in people)`,
    );
  }
  const roles = listWith(
    'and',
    person.roles.map((r) => ROLE_NAMES[r]),
  );
  const input = `${person.username} (${roles})`;
  if (person.roles.some((r) => config.rules.ownerRoles.includes(r))) {
    return outcome(base, 'pass', `${person.username} is an account owner (${roles}).`, input);
  }
  return outcome(
    base,
    'fail',
    `${person.username} is listed as ${roles}, not an account owner; only the account's ${owners} files Scale engagement requests.`,
    input,
  );
}

function notPublicSector(request: ParsedRequest, config: Config): SignalResult {
  const fieldId = config.fieldMap.publicSector;
  const value = choiceAt(request, fieldId);
  const base = {
    title: 'Not a public-sector customer',
    threshold: 'Public-sector customers are out of Scale CSE scope',
    input: value === null ? null : optionLabel(config, fieldId, value),
  } as const;
  if (value === 'yes') {
    return outcome(base, 'fail', 'The customer is public sector, which the Scale CSE team does not cover.');
  }
  if (value === 'no') return outcome(base, 'pass', 'The customer is not public sector.');
  return outcome(base, 'unknown', 'Say whether the customer is public sector (Yes or No).');
}

function arrInRange(x: Inputs): SignalResult {
  const { segment, arr } = x;
  const base = {
    title: "ARR in the segment's range",
    threshold: x.t.arrRange,
    input: arr === null ? null : formatUsd(arr),
  } as const;
  if (!segment) {
    return outcome(
      base,
      'unknown',
      "The request's segment is not known (no template recognised), so its ARR range cannot be checked.",
    );
  }
  if (arr === null)
    return outcome(base, 'unknown', 'Give the current ARR so it can be checked against the segment range.');
  if (arr < segment.arr.min) {
    return outcome(
      base,
      'fail',
      `ARR of ${formatUsd(arr)} is below the ${segment.name} minimum of ${formatUsd(segment.arr.min)}.`,
    );
  }
  if (arr > segment.arr.max) {
    return outcome(
      base,
      'fail',
      `ARR of ${formatUsd(arr)} is above the ${segment.name} ceiling of ${formatUsd(segment.arr.max)}; check the segment, or file it with the team that covers larger accounts.`,
    );
  }
  return outcome(base, 'pass', `ARR of ${formatUsd(arr)} is within the ${segment.name} range.`);
}

function renewalSoon(request: ParsedRequest, x: Inputs): SignalResult {
  const n = x.config.rules.renewalWithinMonths;
  const limit = x.t.renewalLimit;
  const renewal = dateAt(request, x.config.fieldMap.renewalDate);
  const base = { title: 'Renewal soon', threshold: x.t.renewal, input: renewal };
  if (renewal === null) return outcome(base, 'unknown', 'No renewal date given.');
  if (renewal < x.today) {
    return outcome(
      base,
      'pass',
      `The renewal date ${renewal} has already passed, so it counts as a renewal due now; check the date.`,
    );
  }
  if (renewal <= limit) return outcome(base, 'pass', `The renewal on ${renewal} is within ${months(n)}.`);
  return outcome(base, 'fail', `The renewal on ${renewal} is more than ${months(n)} away.`);
}

function largeAccount(x: Inputs): SignalResult {
  const { arr } = x;
  const input = arr === null ? null : formatUsd(arr);
  const floor = x.t.largeFloor;
  if (floor === null) {
    return {
      title: 'Large account',
      threshold: x.t.large,
      input,
      verdict: 'unknown',
      detail: "The request's segment is not known, so its ceiling is unknown.",
    };
  }
  const base = { title: 'Large account', threshold: x.t.large, input };
  if (arr === null) return outcome(base, 'unknown', 'No ARR given.');
  if (arr >= floor)
    return outcome(base, 'pass', `ARR of ${formatUsd(arr)} is at least ${formatUsd(floor)}: a large account.`);
  return outcome(base, 'fail', `ARR of ${formatUsd(arr)} is below ${formatUsd(floor)}.`);
}

function highGrowth(x: Inputs): SignalResult {
  const limit = x.config.rules.highGrowthLam;
  const { lam } = x;
  const base = { title: 'High growth potential', threshold: x.t.growth, input: lam === null ? null : formatUsd(lam) };
  if (lam === null) return outcome(base, 'unknown', 'No LAM given.');
  if (lam > limit)
    return outcome(base, 'pass', `LAM of ${formatUsd(lam)} is above ${formatUsd(limit)}: high growth potential.`);
  return outcome(base, 'fail', `LAM of ${formatUsd(lam)} is not above ${formatUsd(limit)}.`);
}

function largeAndGrowing(large: SignalResult, growth: SignalResult, x: Inputs): SignalResult {
  const verdict = both(large.verdict, growth.verdict);
  const input =
    x.arr === null && x.lam === null
      ? null
      : `ARR ${x.arr === null ? 'not given' : formatUsd(x.arr)}, LAM ${x.lam === null ? 'not given' : formatUsd(x.lam)}`;
  const detail =
    verdict === 'pass'
      ? 'A large account with high growth potential.'
      : verdict === 'fail'
        ? large.verdict === 'fail'
          ? 'Not a large account.'
          : 'No high growth potential.'
        : 'Needs both ARR and LAM (and a known segment) to tell.';
  return {
    title: 'Large account with high growth potential',
    threshold: `${large.threshold}, and ${growth.threshold}`,
    input,
    verdict,
    detail,
  };
}

function lowUtilization(request: ParsedRequest, x: Inputs): SignalResult {
  const { config, today } = x;
  const fm = config.fieldMap;
  const below = config.rules.lowUtilizationPercent;
  const after = config.rules.utilizationAfterMonths;
  const given = numberAt(request, fm.utilization);
  const purchased = numberAt(request, fm.licensesPurchased);
  const inUse = numberAt(request, fm.licensesInUse);
  const computed = given === null && purchased !== null && purchased > 0 && inUse !== null;
  const utilization = given ?? (computed ? Math.round((inUse / purchased) * 1000) / 10 : null);
  const start = dateAt(request, fm.subscriptionStart);

  const parts: string[] = [];
  if (utilization !== null) {
    parts.push(
      computed
        ? `${formatPercent(utilization)} (${inUse} of ${purchased} licenses in use)`
        : formatPercent(utilization),
    );
  }
  if (start !== null) parts.push(`subscription started ${start}`);
  const base = {
    title: 'Low license utilization',
    threshold: x.t.lowUtilization,
    input: parts.length > 0 ? parts.join('; ') : null,
  };

  // The subscription is old enough when its N-month anniversary is today or earlier.
  const aged: Verdict = start === null ? 'unknown' : shiftMonths(start, after) <= today ? 'pass' : 'fail';
  const low: Verdict = utilization === null ? 'unknown' : utilization < below ? 'pass' : 'fail';
  const verdict = both(low, aged);
  const util = utilization === null ? '' : formatPercent(utilization);
  let detail: string;
  if (verdict === 'pass') {
    detail = `Utilization of ${util} is below ${formatPercent(below)} and the subscription started ${months(after)} or more ago (${start}).`;
  } else if (low === 'fail') {
    detail = `Utilization of ${util} is not below ${formatPercent(below)}.`;
  } else if (aged === 'fail') {
    detail = `The subscription started on ${start}, less than ${months(after)} ago, so utilization is not judged yet.`;
  } else if (low === 'unknown' && aged === 'unknown') {
    detail = 'Needs the utilization (or licenses purchased and in use) and the subscription start date.';
  } else if (low === 'unknown') {
    detail = 'Give the utilization, or the licenses purchased and in use, so it can be computed.';
  } else {
    detail = `Utilization of ${util} is below ${formatPercent(below)}, but the subscription start date is missing.`;
  }
  return outcome(base, verdict, detail);
}

/** Rule value lists are configuration (stable objects): slug each list once. */
const slugged = new WeakMap<string[], string[]>();

/** Rule values may be written as option labels ("High") or values ("high"); requests hold values. */
function sluggedList(matching: string[]): string[] {
  let wanted = slugged.get(matching);
  if (!wanted) slugged.set(matching, (wanted = matching.map(slug)));
  return wanted;
}

function propensity(
  request: ParsedRequest,
  config: Config,
  fieldId: string,
  matching: string[],
  words: { title: string; what: string; raised: string; threshold: string },
): SignalResult {
  const wanted = sluggedList(matching);
  const value = choiceAt(request, fieldId);
  const base = {
    title: words.title,
    threshold: words.threshold,
    input: value === null ? null : optionLabel(config, fieldId, value),
  };
  if (value === null) return outcome(base, 'unknown', `No ${words.what.toLowerCase()} given.`);
  if (wanted.includes(value)) return outcome(base, 'pass', `${words.what} is ${base.input}: ${words.raised}.`);
  return outcome(base, 'fail', `${words.what} is ${base.input}.`);
}

function atRiskRequest(request: ParsedRequest, config: Config, t: Thresholds): SignalResult {
  const fieldId = config.fieldMap.requestType;
  const value = choiceAt(request, fieldId);
  const base = {
    title: 'Filed as an at-risk request',
    threshold: t.atRisk,
    input: value === null ? null : optionLabel(config, fieldId, value),
  };
  if (value === null) return outcome(base, 'unknown', 'No request type given.');
  if (value === 'at-risk') return outcome(base, 'pass', 'The AE filed this as an at-risk customer.');
  return outcome(base, 'fail', `The request type is "${base.input}".`);
}

function signalResults(request: ParsedRequest, x: Inputs): Record<Signal, SignalResult> {
  const { config } = x;
  const large = largeAccount(x);
  const growth = highGrowth(x);
  return {
    'renewal-soon': renewalSoon(request, x),
    'large-account': large,
    'high-growth': growth,
    'large-account-high-growth': largeAndGrowing(large, growth, x),
    'low-utilization': lowUtilization(request, x),
    'churn-risk': propensity(request, config, config.fieldMap.churnPropensity, config.rules.churnPropensity, {
      title: 'Churn risk',
      what: 'Propensity to churn',
      raised: 'a churn risk',
      threshold: x.t.churn,
    }),
    'expansion-potential': propensity(
      request,
      config,
      config.fieldMap.expandPropensity,
      config.rules.expandPropensity,
      {
        title: 'Expansion potential',
        what: 'Propensity to expand',
        raised: 'expansion potential',
        threshold: x.t.expand,
      },
    ),
    'at-risk-request': atRiskRequest(request, config, x.t),
  };
}

/**
 * Applies the gates and signals of `config.rules` to a request filed by `author` (a GitLab
 * username, null when unknown), as of `today` (YYYY-MM-DD).
 */
export function qualify(request: ParsedRequest, author: string | null, config: Config, today: string): Qualification {
  const segmentId = request.form?.segment;
  const segmentConfig = segmentId === undefined ? undefined : config.segments[segmentId];
  const day = isoDay(today);
  const segment = segmentId !== undefined && segmentConfig ? { ...segmentConfig, id: segmentId } : null;
  const inputs: Inputs = {
    config,
    today: day,
    segment,
    arr: numberAt(request, config.fieldMap.arr),
    lam: numberAt(request, config.fieldMap.lam),
    t: thresholdsFor(config, segment, day),
  };

  const gates = [
    asRule('account-owner', 'gate', accountOwner(author, config, inputs.t)),
    asRule('not-public-sector', 'gate', notPublicSector(request, config)),
    asRule('arr-in-range', 'gate', arrInRange(inputs)),
  ];
  const bySignal = signalResults(request, inputs);
  const signalRules: RuleResult[] = SIGNALS.map((id) => asRule(id, 'signal', bySignal[id]));
  const signals = SIGNALS.filter((id) => bySignal[id].verdict === 'pass');

  const raised = new Set<string>(signals);
  const { priority, flags: flagConditions } = config.rules;
  const status = gates.some((g) => g.verdict === 'fail')
    ? 'not-qualified'
    : gates.some((g) => g.verdict === 'unknown')
      ? 'incomplete'
      : 'qualified';
  return {
    status,
    qualified: status === 'qualified',
    rules: [...gates, ...signalRules],
    signals,
    priority: priority.rules.find((r) => holds(r.when, raised))?.then ?? priority.default,
    flags: FLAGS.filter((f) => holds(flagConditions[f], raised)),
    reasons: gates.filter((g) => g.verdict === 'fail').map((g) => g.detail),
  };
}
