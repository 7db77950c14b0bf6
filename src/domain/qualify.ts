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
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
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

function shiftMonths(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const shifted = addMonths(new Date(y, m - 1, d), n);
  const pad = (v: number) => String(v).padStart(2, '0');
  return `${shifted.getFullYear()}-${pad(shifted.getMonth() + 1)}-${pad(shifted.getDate())}`;
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

function accountOwner(author: string | null, config: Config): RuleResult {
  const owners = listWith('or', config.rules.ownerRoles.map((r) => ROLE_NAMES[r]));
  const base = {
    id: 'account-owner',
    kind: 'gate',
    title: 'Filed by the account owner',
    threshold: `Filed by an account owner (${owners}) listed in the bot's people`,
  } as const;
  if (author === null) {
    return { ...base, input: null, verdict: 'unknown', detail: 'The author of the request is not known, so the bot cannot check who filed it.' };
  }
  const person = config.person(author);
  if (!person) {
    return {
      ...base,
      input: `${author} (not in people)`,
      verdict: 'fail',
      detail: `${author} is not in the bot's people list; only account owners (${owners}) file Scale engagement requests, so ask the account's ${owners} to file it.`,
    };
  }
  const roles = listWith('and', person.roles.map((r) => ROLE_NAMES[r]));
  const input = `${person.username} (${roles})`;
  if (person.roles.some((r) => config.rules.ownerRoles.includes(r))) {
    return { ...base, input, verdict: 'pass', detail: `${person.username} is an account owner (${roles}).` };
  }
  return {
    ...base,
    input,
    verdict: 'fail',
    detail: `${person.username} is listed as ${roles}, not an account owner; only the account's ${owners} files Scale engagement requests.`,
  };
}

function notPublicSector(request: ParsedRequest, config: Config): RuleResult {
  const fieldId = config.fieldMap.publicSector;
  const value = choiceAt(request, fieldId);
  const base = {
    id: 'not-public-sector',
    kind: 'gate',
    title: 'Not a public-sector customer',
    threshold: 'Public-sector customers are out of Scale CSE scope',
    input: value === null ? null : optionLabel(config, fieldId, value),
  } as const;
  if (value === 'yes') {
    return { ...base, verdict: 'fail', detail: 'The customer is public sector, which the Scale CSE team does not cover.' };
  }
  if (value === 'no') return { ...base, verdict: 'pass', detail: 'The customer is not public sector.' };
  return { ...base, verdict: 'unknown', detail: 'Say whether the customer is public sector (Yes or No).' };
}

function arrInRange(x: Inputs): RuleResult {
  const { segment, arr } = x;
  const base = {
    id: 'arr-in-range',
    kind: 'gate',
    title: "ARR in the segment's range",
    threshold: segment
      ? `ARR between ${formatUsd(segment.arr.min)} and ${formatUsd(segment.arr.max)} (${segment.name})`
      : "ARR within the range of the request's segment",
    input: arr === null ? null : formatUsd(arr),
  } as const;
  if (!segment) {
    return { ...base, verdict: 'unknown', detail: "The request's segment is not known (no template recognised), so its ARR range cannot be checked." };
  }
  if (arr === null) return { ...base, verdict: 'unknown', detail: 'Give the current ARR so it can be checked against the segment range.' };
  if (arr < segment.arr.min) {
    return {
      ...base,
      verdict: 'fail',
      detail: `ARR of ${formatUsd(arr)} is below the ${segment.name} minimum of ${formatUsd(segment.arr.min)}.`,
    };
  }
  if (arr > segment.arr.max) {
    return {
      ...base,
      verdict: 'fail',
      detail: `ARR of ${formatUsd(arr)} is above the ${segment.name} ceiling of ${formatUsd(segment.arr.max)}; check the segment, or file it with the team that covers larger accounts.`,
    };
  }
  return { ...base, verdict: 'pass', detail: `ARR of ${formatUsd(arr)} is within the ${segment.name} range.` };
}

type SignalResult = Omit<RuleResult, 'id' | 'kind'>;

function renewalSoon(request: ParsedRequest, x: Inputs): SignalResult {
  const n = x.config.rules.renewalWithinMonths;
  const limit = shiftMonths(x.today, n);
  const renewal = dateAt(request, x.config.fieldMap.renewalDate);
  const base = { title: 'Renewal soon', threshold: `Renewal on or before ${limit} (within ${months(n)})`, input: renewal };
  if (renewal === null) return { ...base, verdict: 'unknown', detail: 'No renewal date given.' };
  if (renewal < x.today) {
    return { ...base, verdict: 'pass', detail: `The renewal date ${renewal} has already passed, so it counts as a renewal due now; check the date.` };
  }
  if (renewal <= limit) return { ...base, verdict: 'pass', detail: `The renewal on ${renewal} is within ${months(n)}.` };
  return { ...base, verdict: 'fail', detail: `The renewal on ${renewal} is more than ${months(n)} away.` };
}

function largeAccount(x: Inputs): SignalResult {
  const share = x.config.rules.largeAccountArrShare;
  const shareText = formatPercent(share * 100);
  const { segment, arr } = x;
  const input = arr === null ? null : formatUsd(arr);
  if (!segment) {
    return {
      title: 'Large account',
      threshold: `ARR at least ${shareText} of the segment ceiling`,
      input,
      verdict: 'unknown',
      detail: "The request's segment is not known, so its ceiling is unknown.",
    };
  }
  // Rounded to cents so a share such as 0.7 of a round ceiling does not miss by a float error.
  const floor = Math.round(share * segment.arr.max * 100) / 100;
  const base = {
    title: 'Large account',
    threshold: `ARR at least ${formatUsd(floor)} (${shareText} of the ${segment.name} ceiling of ${formatUsd(segment.arr.max)})`,
    input,
  };
  if (arr === null) return { ...base, verdict: 'unknown', detail: 'No ARR given.' };
  if (arr >= floor) return { ...base, verdict: 'pass', detail: `ARR of ${formatUsd(arr)} is at least ${formatUsd(floor)}: a large account.` };
  return { ...base, verdict: 'fail', detail: `ARR of ${formatUsd(arr)} is below ${formatUsd(floor)}.` };
}

function highGrowth(x: Inputs): SignalResult {
  const limit = x.config.rules.highGrowthLam;
  const { lam } = x;
  const base = { title: 'High growth potential', threshold: `LAM above ${formatUsd(limit)}`, input: lam === null ? null : formatUsd(lam) };
  if (lam === null) return { ...base, verdict: 'unknown', detail: 'No LAM given.' };
  if (lam > limit) return { ...base, verdict: 'pass', detail: `LAM of ${formatUsd(lam)} is above ${formatUsd(limit)}: high growth potential.` };
  return { ...base, verdict: 'fail', detail: `LAM of ${formatUsd(lam)} is not above ${formatUsd(limit)}.` };
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
  const startedBy = shiftMonths(today, -after);
  const given = numberAt(request, fm.utilization);
  const purchased = numberAt(request, fm.licensesPurchased);
  const inUse = numberAt(request, fm.licensesInUse);
  const computed = given === null && purchased !== null && purchased > 0 && inUse !== null;
  const utilization = given ?? (computed ? Math.round((inUse / purchased) * 1000) / 10 : null);
  const start = dateAt(request, fm.subscriptionStart);

  const parts: string[] = [];
  if (utilization !== null) {
    parts.push(computed ? `${formatPercent(utilization)} (${inUse} of ${purchased} licenses in use)` : formatPercent(utilization));
  }
  if (start !== null) parts.push(`subscription started ${start}`);
  const base = {
    title: 'Low license utilization',
    threshold: `Utilization below ${formatPercent(below)} once the subscription is ${months(after)} old (started on or before ${startedBy})`,
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
  return { ...base, verdict, detail };
}

function propensity(
  request: ParsedRequest,
  config: Config,
  fieldId: string,
  matching: string[],
  words: { title: string; what: string; raised: string },
): SignalResult {
  // Rule values may be written as option labels ("High") or values ("high"); requests hold values.
  const wanted = matching.map(slug);
  const value = choiceAt(request, fieldId);
  const base = {
    title: words.title,
    threshold: `${words.what} is ${listWith('or', wanted.map((v) => optionLabel(config, fieldId, v)))}`,
    input: value === null ? null : optionLabel(config, fieldId, value),
  };
  if (value === null) return { ...base, verdict: 'unknown', detail: `No ${words.what.toLowerCase()} given.` };
  if (wanted.includes(value)) return { ...base, verdict: 'pass', detail: `${words.what} is ${base.input}: ${words.raised}.` };
  return { ...base, verdict: 'fail', detail: `${words.what} is ${base.input}.` };
}

function atRiskRequest(request: ParsedRequest, config: Config): SignalResult {
  const fieldId = config.fieldMap.requestType;
  const value = choiceAt(request, fieldId);
  const base = {
    title: 'Filed as an at-risk request',
    threshold: `Request type is "${optionLabel(config, fieldId, 'at-risk')}"`,
    input: value === null ? null : optionLabel(config, fieldId, value),
  };
  if (value === null) return { ...base, verdict: 'unknown', detail: 'No request type given.' };
  if (value === 'at-risk') return { ...base, verdict: 'pass', detail: 'The AE filed this as an at-risk customer.' };
  return { ...base, verdict: 'fail', detail: `The request type is "${base.input}".` };
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
    }),
    'expansion-potential': propensity(request, config, config.fieldMap.expandPropensity, config.rules.expandPropensity, {
      title: 'Expansion potential',
      what: 'Propensity to expand',
      raised: 'expansion potential',
    }),
    'at-risk-request': atRiskRequest(request, config),
  };
}

/**
 * Applies the gates and signals of `config.rules` to a request filed by `author` (a GitLab
 * username, null when unknown), as of `today` (YYYY-MM-DD).
 */
export function qualify(request: ParsedRequest, author: string | null, config: Config, today: string): Qualification {
  const segmentId = request.form?.segment;
  const segmentConfig = segmentId === undefined ? undefined : config.segments[segmentId];
  const inputs: Inputs = {
    config,
    today: isoDay(today),
    segment: segmentId !== undefined && segmentConfig ? { ...segmentConfig, id: segmentId } : null,
    arr: numberAt(request, config.fieldMap.arr),
    lam: numberAt(request, config.fieldMap.lam),
  };

  const gates = [accountOwner(author, config), notPublicSector(request, config), arrInRange(inputs)];
  const bySignal = signalResults(request, inputs);
  const signalRules: RuleResult[] = SIGNALS.map((id) => ({ id, kind: 'signal', ...bySignal[id] }));
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
