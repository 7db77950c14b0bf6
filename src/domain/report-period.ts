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

function parseDay(value: string, option: string): Date {
  const d = DATE.test(value) ? parse(value, 'yyyy-MM-dd', new Date(0), { in: utc }) : null;
  if (!d || !isValid(d) || format(d, 'yyyy-MM-dd', { in: utc }) !== value) {
    throw new Error(`${option} "${value}" is not a valid date; use YYYY-MM-DD, e.g. 2026-11-01`);
  }
  return d;
}

/**
 * A period of whole UTC days from `--from` to `--to`, both inclusive (YYYY-MM-DD): `to` in the
 * result is the start of the day after. Throws when a date is invalid or `from` is after `to`.
 */
export function customPeriod(from: string, to: string): Period {
  const start = parseDay(from, '--from');
  const end = parseDay(to, '--to');
  if (start.getTime() > end.getTime()) throw new Error(`--from ${from} is after --to ${to}; the period would be empty`);
  return { label: `${from}..${to}`, from: iso(start), to: iso(addDays(end, 1, { in: utc })) };
}
