import { tz } from '@date-fns/tz';
import {
  addDays,
  addMonths,
  addWeeks,
  format,
  getISOWeek,
  getISOWeekYear,
  isValid,
  parse,
  startOfISOWeek,
  startOfMonth,
  subMonths,
  subWeeks,
} from 'date-fns';

/**
 * The time span a programme report covers. Pure: the caller passes `now`. All arithmetic is in
 * UTC, whatever the machine's time zone, so a report run anywhere covers the same instants.
 */

export interface Period {
  /** `2026-W48`, `2026-11` or `2026-11-01..2026-11-30`. */
  label: string;
  /** Inclusive ISO instant (UTC). */
  from: string;
  /** Exclusive ISO instant (UTC). */
  to: string;
}

export type PeriodKind = 'week' | 'month';

const utc = tz('UTC');
const iso = (d: Date) => new Date(d.getTime()).toISOString();

/** The ISO week label (`2026-W48`) of the week holding `instant`, in UTC. */
export function isoWeekLabel(instant: Date): string {
  const year = getISOWeekYear(instant, { in: utc });
  const week = getISOWeek(instant, { in: utc });
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/**
 * The last complete period before `now`: the ISO week (Monday 00:00Z to the next Monday 00:00Z)
 * or the calendar month (1st 00:00Z to the next 1st 00:00Z) that ended at or before `now`.
 */
export function periodOf(kind: PeriodKind, now: Date): Period {
  if (Number.isNaN(now.getTime())) throw new Error('periodOf: "now" is not a valid date');
  if (kind === 'week') {
    const thisWeek = startOfISOWeek(now, { in: utc });
    const from = subWeeks(thisWeek, 1, { in: utc });
    return { label: isoWeekLabel(from), from: iso(from), to: iso(addWeeks(from, 1, { in: utc })) };
  }
  const thisMonth = startOfMonth(now, { in: utc });
  const from = subMonths(thisMonth, 1, { in: utc });
  return { label: format(from, 'yyyy-MM', { in: utc }), from: iso(from), to: iso(addMonths(from, 1, { in: utc })) };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Why a custom period cannot be read: the facts, for the caller to put in its own words. */
export type PeriodProblem =
  { kind: 'invalid-date'; end: 'from' | 'to'; value: string } | { kind: 'reversed'; from: string; to: string };

export class PeriodError extends Error {
  constructor(readonly problem: PeriodProblem) {
    super(
      problem.kind === 'invalid-date'
        ? `the ${problem.end === 'from' ? 'first' : 'last'} day "${problem.value}" is not a valid date (YYYY-MM-DD)`
        : `the first day ${problem.from} is after the last day ${problem.to}`,
    );
    this.name = 'PeriodError';
  }
}

function parseDay(value: string, end: 'from' | 'to'): Date {
  const d = DATE.test(value) ? parse(value, 'yyyy-MM-dd', new Date(0), { in: utc }) : null;
  if (!d || !isValid(d) || format(d, 'yyyy-MM-dd', { in: utc }) !== value)
    throw new PeriodError({ kind: 'invalid-date', end, value });
  return d;
}

/**
 * A period of whole UTC days from `from` to `to`, both inclusive (YYYY-MM-DD): `to` in the result
 * is the start of the day after. Throws a `PeriodError` when a date is invalid or `from` is after `to`.
 */
export function customPeriod(from: string, to: string): Period {
  const start = parseDay(from, 'from');
  const end = parseDay(to, 'to');
  if (start.getTime() > end.getTime()) throw new PeriodError({ kind: 'reversed', from, to });
  return { label: `${from}..${to}`, from: iso(start), to: iso(addDays(end, 1, { in: utc })) };
}
