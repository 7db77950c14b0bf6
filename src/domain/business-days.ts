import { TZDate, tzOffset } from '@date-fns/tz';
import type { Config } from './config.js';
import { WEEKDAYS, type Weekday } from './config-schema.js';
import { publicHolidayDates, type PublicHolidayRule } from './public-holidays.js';

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
  /** Public holidays from a maintained calendar, on top of `holidays`. */
  publicHolidays?: PublicHolidayRule | null;
}

const calendars = new WeakMap<object, Map<string, BusinessCalendar>>();

/** The calendar of a region (unknown or null region: the configuration's default time zone). */
export function regionCalendar(config: Pick<Config, 'calendar' | 'regions'>, region: string | null): BusinessCalendar {
  // Asked for every deadline of every request: built once per configuration and region.
  let byRegion = calendars.get(config);
  if (!byRegion) calendars.set(config, (byRegion = new Map()));
  const key = region ?? '';
  let cal = byRegion.get(key);
  if (!cal) {
    const r = region ? config.regions[region] : undefined;
    cal = {
      timezone: r?.timezone ?? config.calendar.timezone,
      weekend: config.calendar.weekend,
      holidays: new Set([...config.calendar.holidays, ...(r?.holidays ?? [])]),
      ...(r?.publicHolidays ? { publicHolidays: r.publicHolidays } : {}),
    };
    byRegion.set(key, cal);
  }
  return cal;
}

/** The local date (YYYY-MM-DD) of an instant in a time zone. */
export function localDay(instant: Date, timezone: string): string {
  return new Date(localParts(instant, timezone).day * DAY_MS).toISOString().slice(0, 10);
}

const DAY_MS = 86_400_000;

/** A local calendar date as days since 1970-01-01: walking days is plain arithmetic, no time zone maths. */
type DayNumber = number;

function isBusinessDayNumber(day: DayNumber, cal: BusinessCalendar): boolean {
  // 1970-01-01 was a Thursday.
  if (cal.weekend.includes(WEEKDAYS[(((day + 4) % 7) + 7) % 7]!)) return false;
  if (cal.holidays.size === 0 && !cal.publicHolidays) return true;
  return !isHoliday(new Date(day * DAY_MS).toISOString().slice(0, 10), cal);
}

/** A local date (YYYY-MM-DD) among the calendar's own holidays or its public holidays. */
function isHoliday(date: string, cal: BusinessCalendar): boolean {
  return (
    cal.holidays.has(date) ||
    (!!cal.publicHolidays && publicHolidayDates(cal.publicHolidays, Number(date.slice(0, 4))).has(date))
  );
}

/**
 * The zone's UTC offset at an instant, in ms. Offsets change only on quarter-hour boundaries, so
 * they are remembered per quarter hour: a report over 50,000 requests asks the same few thousand.
 */
const offsets = new Map<string, number>();
const QUARTER_HOUR = 900_000;
function offsetMs(timezone: string, ms: number): number {
  const key = `${timezone}|${Math.floor(ms / QUARTER_HOUR)}`;
  let hit = offsets.get(key);
  if (hit === undefined) {
    if (offsets.size >= 50_000) offsets.clear();
    offsets.set(key, (hit = tzOffset(timezone, new Date(ms)) * 60_000));
  }
  return hit;
}

/** The local date and wall-clock time of an instant. */
function localParts(instant: Date, timezone: string): { day: DayNumber; wall: [number, number, number, number] } {
  const local = new Date(instant.getTime() + offsetMs(timezone, instant.getTime()));
  return {
    day: Math.floor(local.getTime() / DAY_MS),
    wall: [local.getUTCHours(), local.getUTCMinutes(), local.getUTCSeconds(), local.getUTCMilliseconds()],
  };
}

/** The instant of a local date and wall-clock time (a time skipped by DST moves forward, as clocks do). */
function instantOf(day: DayNumber, wall: readonly [number, number, number, number], timezone: string): Date {
  const local = day * DAY_MS + ((wall[0] * 60 + wall[1]) * 60 + wall[2]) * 1000 + wall[3];
  // The offset at the wall time read as UTC gives a first guess, the offset at that guess a second;
  // the one that reads back as the wall time wins. In a skipped hour (spring forward) neither does:
  // move forward by the gap, as clocks and TZDate do.
  const guess = local - offsetMs(timezone, local);
  const settled = local - offsetMs(timezone, guess);
  const readsBack = (t: number) => t + offsetMs(timezone, t) === local;
  return new Date(readsBack(settled) ? settled : readsBack(guess) ? guess : Math.max(settled, guess));
}

export function isBusinessDay(instant: Date, cal: BusinessCalendar): boolean {
  return isBusinessDayNumber(localParts(instant, cal.timezone).day, cal);
}

/**
 * Where counting starts: the start's local date and time, or, for a start outside business days,
 * the beginning (00:00) of the next business day.
 */
function firstBusinessMoment(
  start: Date,
  cal: BusinessCalendar,
): { day: DayNumber; wall: [number, number, number, number] } {
  if (cal.weekend.length >= 7) throw new Error('a calendar with no working weekday has no business days');
  const local = localParts(start, cal.timezone);
  if (isBusinessDayNumber(local.day, cal)) return local;
  let day = local.day + 1;
  while (!isBusinessDayNumber(day, cal)) day++;
  return { day, wall: [0, 0, 0, 0] };
}

/**
 * The instant `days` business days after `start`, at the same local time of day (kept across DST
 * changes). A start outside business days counts from the beginning of the next business day (a
 * request filed on Saturday with 2 days is due at the end of Tuesday, i.e. Wednesday 00:00 local).
 */
export function addBusinessDays(start: Date, days: number, cal: BusinessCalendar): Date {
  const first = firstBusinessMoment(start, cal);
  let day = first.day;
  for (let left = days; left > 0;) if (isBusinessDayNumber(++day, cal)) left--;
  return instantOf(day, first.wall, cal.timezone);
}

/** Whole business days from `start` to `end` (0 when `end` is not after `start`). */
export function businessDaysBetween(start: Date, end: Date, cal: BusinessCalendar): number {
  const first = firstBusinessMoment(start, cal);
  const last = localParts(end, cal.timezone).day;
  let days = 0;
  for (let day = first.day + 1; day < last; day++) if (isBusinessDayNumber(day, cal)) days++;
  // The end's own date counts once its wall-clock time is reached.
  if (
    last > first.day &&
    isBusinessDayNumber(last, cal) &&
    instantOf(last, first.wall, cal.timezone).getTime() <= end.getTime()
  )
    days++;
  return days;
}

/** Minutes since local midnight of an instant in a time zone (for quiet hours). */
export function localMinutes(instant: Date, timezone: string): number {
  const d = new TZDate(instant.getTime(), timezone);
  return d.getHours() * 60 + d.getMinutes();
}
