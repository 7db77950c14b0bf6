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
  let at = firstBusinessMoment(start, cal);
  for (let left = days; left > 0; ) {
    at = addDays(at, 1);
    if (isBusiness(at, cal)) left--;
  }
  return new Date(at.getTime());
}

/** Whole business days from `start` to `end` (0 when `end` is not after `start`). */
export function businessDaysBetween(start: Date, end: Date, cal: BusinessCalendar): number {
  let at = firstBusinessMoment(start, cal);
  let days = 0;
  for (;;) {
    at = addDays(at, 1);
    if (at.getTime() > end.getTime()) return days;
    if (isBusiness(at, cal)) days++;
  }
}

function firstBusinessMoment(start: Date, cal: BusinessCalendar): TZDate {
  if (cal.weekend.length >= 7) throw new Error('a calendar with no working weekday has no business days');
  let at = new TZDate(start.getTime(), cal.timezone);
  if (!isBusiness(at, cal)) {
    do at = startOfDay(addDays(at, 1));
    while (!isBusiness(at, cal));
  }
  return at;
}

/** Minutes since local midnight of an instant in a time zone (for quiet hours). */
export function localMinutes(instant: Date, timezone: string): number {
  const d = new TZDate(instant.getTime(), timezone);
  return d.getHours() * 60 + d.getMinutes();
}
