import { cutText } from './text-limits.js';

/**
 * Readers for the values people type into a request: tolerant of formatting, strict about meaning.
 * Each returns `{ value }` or `{ error }` with a message a sales person understands; none throws.
 */

export type Read<T> = { value: T } | { error: string };

const MULTIPLIERS: Record<string, number> = {
  k: 1e3,
  thousand: 1e3,
  m: 1e6,
  mm: 1e6,
  mn: 1e6,
  million: 1e6,
  b: 1e9,
  bn: 1e9,
  billion: 1e9,
};

const FOREIGN_CURRENCY = /(€|£|¥|₹|\b(?:eur|gbp|jpy|cad|aud|inr|chf|cny|brl|mxn)\b|\bc\$|\ba\$)/i;

/** `1,200,000` → 1200000; `1.2` → 1.2. Returns null for anything that is not one plain number. */
function plainNumber(text: string): number | null {
  const t = text.replace(/[\s\u00a0_]/g, '');
  if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(t)) return Number(t.replace(/,/g, ''));
  if (/^\d+(\.\d+)?$/.test(t) || /^\.\d+$/.test(t)) return Number(t);
  return null;
}

/**
 * Two numbers joined by a dash or "to" (`100k-200k`, `$100k to $200k`, `60-70%`). Why: a multiplier or
 * unit between the first number and the dash hid ranges, which then got a vaguer "not an amount".
 */
function isRange(text: string): boolean {
  // One `\s*` per gap: two adjacent ones made this quadratic on long runs of blanks.
  return /\d\s*(?:(?:k|thousand|mm|mn|m|million|bn|b|billion|%)\s*)?(?:-|–|—|\bto\b)\s*(?:(?:usd|us\$|\$)\s*)?\d/i.test(
    text,
  );
}

function isNegative(text: string): boolean {
  return /^\s*(-|−|–|\()/.test(text) || /^\s*(usd|us\$|\$)\s*[-−–]/i.test(text);
}

/** Amounts in US dollars: `$1.2M`, `1,200,000`, `1.2m USD`, `USD 950k`, `120 thousand`. */
export function readCurrency(input: string): Read<number> {
  const text = input.trim();
  if (FOREIGN_CURRENCY.test(text)) return { error: 'give the amount in US dollars (USD)' };
  if (isNegative(text)) return { error: 'cannot be negative' };
  const t = text
    .toLowerCase()
    .replace(/^(approx\.?|approximately|about|around|~|≈)\s*/, '')
    .replace(/\b(arr|per year|\/\s*(yr|year)|annually|a year)\b/g, '')
    // Why `\bus\$` apart: a trailing `\b` after `$` fails before a space, so "US$ 1.2M" was rejected.
    .replace(/\bus\$|\b(usd|dollars?)\b|\$/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (isRange(t)) return { error: 'give one amount, not a range' };
  const m = /^([\d.,\s]+?)\s*(k|thousand|mm|mn|m|million|bn|b|billion)?$/.exec(t);
  if (!m) return { error: `"${truncate(input)}" is not an amount; write it like $120,000 or 120k` };
  const n = plainNumber(m[1]!);
  if (n === null) return { error: `"${truncate(input)}" is not an amount; write it like $120,000 or 120k` };
  const mult = m[2] ? MULTIPLIERS[m[2]]! : 1;
  return { value: Math.round(n * mult * 100) / 100 };
}

/** Plain counts such as licences: `1,200`, `250`, `1.5k`. */
export function readNumber(input: string): Read<number> {
  // Why collapse blanks: the pattern below has three whitespace runs in a row, which backtracked
  // exponentially on an answer like "1" + many spaces + "x" (the bot hung).
  const text = input.trim().replace(/\s+/g, ' ');
  if (isNegative(text)) return { error: 'cannot be negative' };
  if (isRange(text)) return { error: 'give one number, not a range' };
  const m = /^([\d.,\s]+?)\s*(k|thousand)?(\s+(users|seats|licen[cs]es?|people))?$/i.exec(text);
  const n = m ? plainNumber(m[1]!) : null;
  if (!m || n === null) return { error: `"${truncate(input)}" is not a number` };
  // Why round: 16.1 * 1000 is 16100.000000000002 in floating point, which then failed "whole number".
  return { value: m[2] ? round(n * 1000) : n };
}

/**
 * Percentages: `85%`, `85 %`, `85`, and fractions `0.85`. A bare number with a decimal point between
 * 0 and 1 is read as a fraction; anything else as percent points.
 */
export function readPercent(input: string): Read<number> {
  const text = input.trim();
  if (isNegative(text)) return { error: 'cannot be negative' };
  if (isRange(text)) return { error: 'give one percentage, not a range' };
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(%|percent|pct)?$/i.exec(text);
  if (!m) return { error: `"${truncate(input)}" is not a percentage; write it like 68%` };
  const n = Number(m[1]);
  if (!m[2] && m[1]!.includes('.') && n <= 1) return { value: round(n * 100) };
  return { value: round(n) };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

const MONTHS: Record<string, number> = {
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  sept: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
};

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function isoDate(y: number, m: number, d: number): Read<string> {
  // Why: "month 13" read as "there is no such date as 1 month 13 2027"; say plainly what is wrong.
  if (m < 1 || m > 12) return { error: `there is no month ${m}; write the date like ${y}-01-15 or 15 January ${y}` };
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    return { error: `there is no such date as ${d} ${MONTH_NAMES[m - 1] ?? `month ${m}`} ${y}` };
  }
  return { value: `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}` };
}

/**
 * Calendar dates: ISO (`2027-01-15`, `2027/01/15`), written (`Jan 15, 2027`, `15 January 2027`,
 * `15th Jan 2027`). Numeric day/month orders are read only when they cannot be misread
 * (`25/03/2027`); `03/04/2027` could be March or April, so it is an error, never a guess.
 */
const PLAIN_ISO = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/;

export function readDate(input: string): Read<string> {
  // The common answer, a plain ISO date, needs none of the clean-up below.
  const iso = PLAIN_ISO.exec(input);
  if (iso) return isoDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  let text = input
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/^(on|by|around|approx\.?)\s+/i, '');
  // A trailing "(…)" note is dropped. Why not /\s*\(.*\)\s*$/: it is quadratic on long runs of blanks.
  if (text.endsWith(')') && text.includes('(')) text = text.slice(0, text.indexOf('('));
  text = text.replace(/^(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*,?\s+/i, '').trim();
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(text);
  if (m) return isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/.exec(text);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const y = Number(m[3]);
    // Why these first: 13/13 and 0/5 used to reach the branches below and print "month 13" or "undefined".
    if ((a > 12 && b > 12) || a === 0 || b === 0) {
      return { error: `"${truncate(input)}" is not a date; write it like ${y}-01-15 or 15 January ${y}` };
    }
    if (a > 12) return isoDate(y, b, a);
    if (b > 12) return isoDate(y, a, b);
    if (a === b) return isoDate(y, a, b);
    // Why both readings spelled out: the old hint ("like 4 March 2027") offered one reading as the
    // example, which invited copying the wrong date.
    const dayFirst = isoDate(y, b, a);
    const monthFirst = isoDate(y, a, b);
    const pick = [dayFirst, monthFirst].map((r) => ('value' in r ? r.value : '')).join(' or ');
    return {
      error: `"${truncate(input)}" could be ${a} ${MONTH_NAMES[b - 1]} ${y} or ${MONTH_NAMES[a - 1]} ${b}, ${y}; write the one you mean as ${pick}`,
    };
  }
  const words = text.toLowerCase().replace(/,/g, ' ').replace(/\s+/g, ' ').trim();
  // Month first: "Jan 15 2027", "January 15th 2027".
  m = /^([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)? (\d{4})$/.exec(words);
  if (m && MONTHS[m[1]!]) return isoDate(Number(m[3]), MONTHS[m[1]!]!, Number(m[2]));
  // Day first: "15 January 2027", "15th of Jan 2027", "15-Jan-2027".
  m = /^(\d{1,2})(?:st|nd|rd|th)?(?: of)?[ -]([a-z]+)\.?[ -](\d{4})$/.exec(words);
  if (m && MONTHS[m[2]!]) return isoDate(Number(m[3]), MONTHS[m[2]!]!, Number(m[1]));
  if (/^[a-z]+\.? \d{4}$/.test(words) && MONTHS[words.split(' ')[0]!.replace('.', '')]) {
    return { error: `"${truncate(input)}" needs a day too, e.g. 15 ${text}` };
  }
  // Why: "2027-03" and "03/2027" are a month without a day too, but got the generic "not a date".
  m = /^(\d{4})[-/.](\d{1,2})$/.exec(text) ?? /^(\d{1,2})[-/.](\d{4})$/.exec(text);
  if (m) {
    const [y, mo] = m[1]!.length === 4 ? [m[1]!, Number(m[2])] : [m[2]!, Number(m[1])];
    const month = MONTH_NAMES[mo - 1];
    if (month)
      return {
        error: `"${truncate(input)}" needs a day too, e.g. ${y}-${String(mo).padStart(2, '0')}-15 or 15 ${month} ${y}`,
      };
  }
  return { error: `"${truncate(input)}" is not a date; write it like 2027-01-15 or 15 January 2027` };
}

/** A GitLab username, with or without `@`, or a link to the user's profile. */
export function readUser(input: string): Read<string> {
  const text = input.trim().replace(/^<|>$/g, '');
  const url = /^https?:\/\/[^/\s]+\/([A-Za-z0-9_][A-Za-z0-9_.-]*)\/?$/.exec(text);
  if (url) return { value: url[1]! };
  const m = /^@?([A-Za-z0-9_][A-Za-z0-9_.-]*)$/.exec(text);
  if (!m) return { error: `"${truncate(input)}" is not a GitLab username; write it like @jane.doe` };
  return { value: m[1]!.replace(/\.$/, '') };
}

/** An absolute http(s) URL, also when pasted as `<url>` or as a Markdown link. */
export function readUrl(input: string): Read<string> {
  let text = input.trim();
  const link = /^\[[^\]]*\]\((\S+?)\)$/.exec(text);
  if (link) text = link[1]!;
  text = text.replace(/^<|>$/g, '');
  if (!/^https?:\/\/[^\s/$.?#][^\s]*$/i.test(text))
    return { error: `"${truncate(input)}" is not a link; paste a full https:// address` };
  return { value: text };
}

export function truncate(text: string, max = 40): string {
  return cutText(text.trim().replace(/\s+/g, ' '), max);
}
