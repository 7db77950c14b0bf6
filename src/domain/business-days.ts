import { TZDate } from '@date-fns/tz';
import { addDays, startOfDay } from 'date-fns';
import type { Config } from './config.js';
import { WEEKDAYS, type Weekday } from './config-schema.js';

/**
 * Business-day arithmetic in one region's calendar: its time zone, the weekend and its holidays.
 * SLAs are counted in business days of the request's region, so "2 business days" after a Friday
 * afternoon in New York ends on Tuesday afternoon New York time, whatever the machine's zone.
 */

export interface BusinessCalendar {
  timezone: string;
  weekend: readonly Weekday[];
  /** Local dates (YYYY-MM-DD) that are not business days. */
  holidays: ReadonlySet<string>;
}

/** The calendar of a region (unknown or null region: the configuration's default time zone). */
export function regionCalendar(config: Pick<Config, 'calendar' | 'regions'>, region: string | null): BusinessCalendar {
  const r = region ? config.regions[region] : undefined;
  return {
    timezone: r?.timezone ?? config.calendar.timezone,
    weekend: config.calendar.weekend,
    holidays: new Set([...config.calendar.holidays, ...(r?.holidays ?? [])]),
  };
}

const pad = (n: number) => String(n).padStart(2, '0');
const ymd = (d: TZDate) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/** The local date of an instant in a time zone. */
export function localDay(instant: Date, timezone: string): string {
  return ymd(new TZDate(instant.getTime(), timezone));
}

function isBusiness(d: TZDate, cal: BusinessCalendar): boolean {
  return !cal.weekend.includes(WEEKDAYS[d.getDay()]!) && !cal.holidays.has(ymd(d));
}

export function isBusinessDay(instant: Date, cal: BusinessCalendar): boolean {
  return isBusiness(new TZDate(instant.getTime(), cal.timezone), cal);
}

/**
 * The instant `days` business days after `start`, at the same local time of day. A start outside
 * business days counts from the beginning of the next business day (a request filed on Saturday
 * with 2 days is due at the end of Tuesday, i.e. Wednesday 00:00 local).
 */
export function addBusinessDays(start: Date, days: number, cal: BusinessCalendar): Date {
  const walk = businessWalk(start, cal);
  let at = walk.first;
  for (let left = days; left > 0; ) {
    at = walk.next(at);
    if (isBusiness(at, cal)) left--;
  }
  return walk.instant(at);
}

/** Whole business days from `start` to `end` (0 when `end` is not after `start`). */
export function businessDaysBetween(start: Date, end: Date, cal: BusinessCalendar): number {
  const walk = businessWalk(start, cal);
  let at = walk.first;
  let days = 0;
  for (;;) {
    at = walk.next(at);
    if (walk.instant(at).getTime() > end.getTime()) return days;
    if (isBusiness(at, cal)) days++;
  }
}

/**
 * Steps through local calendar days from the first business moment at or after `start`. Days are
 * stepped at noon (never skipped or repeated by a DST change) and the wall-clock time is rebuilt
 * on each, so a start at 02:30 does not become 03:30 for good after a spring-forward night.
 */
function businessWalk(start: Date, cal: BusinessCalendar): { first: TZDate; next: (day: TZDate) => TZDate; instant: (day: TZDate) => Date } {
  if (cal.weekend.length >= 7) throw new Error('a calendar with no working weekday has no business days');
  let from = new TZDate(start.getTime(), cal.timezone);
  if (!isBusiness(from, cal)) {
    do from = startOfDay(addDays(from, 1));
    while (!isBusiness(from, cal));
  }
  const [h, m, s, ms] = [from.getHours(), from.getMinutes(), from.getSeconds(), from.getMilliseconds()];
  const noon = (d: TZDate) => new TZDate(d.getFullYear(), d.getMonth(), d.getDate(), 12, 0, 0, 0, cal.timezone);
  return {
    first: noon(from),
    next: (day) => noon(addDays(day, 1)),
    instant: (day) => new Date(new TZDate(day.getFullYear(), day.getMonth(), day.getDate(), h, m, s, ms, cal.timezone).getTime()),
  };
}

/** Minutes since local midnight of an instant in a time zone (for quiet hours). */
export function localMinutes(instant: Date, timezone: string): number {
  const d = new TZDate(instant.getTime(), timezone);
  return d.getHours() * 60 + d.getMinutes();
}
