import { TZDate } from '@date-fns/tz';
import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import {
  addBusinessDays,
  businessDaysBetween,
  isBusinessDay,
  localDay,
  localMinutes,
  regionCalendar,
  type BusinessCalendar,
} from '../../src/domain/business-days.js';
import { compileConfig, type Config } from '../../src/domain/config.js';
import { EXAMPLE_CONFIG_PATH } from '../helpers/config.js';

/** The shipped example as a plain object, changed per case, then compiled. */
function example(): Record<string, any> {
  return yaml.load(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'), { schema: yaml.CORE_SCHEMA }) as Record<string, any>;
}

function configWith(mutate: (c: Record<string, any>) => void): Config {
  const raw = example();
  mutate(raw);
  const result = compileConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

function problemsWith(mutate: (c: Record<string, any>) => void): Array<{ path: string; message: string }> {
  const raw = example();
  mutate(raw);
  const result = compileConfig(raw);
  return result.ok ? [] : result.problems;
}

const cal = (timezone: string, holidays: string[] = []): BusinessCalendar => ({
  timezone,
  weekend: ['sat', 'sun'],
  holidays: new Set(holidays),
});
const NY = cal('America/New_York');
const LA = cal('America/Los_Angeles');
const UTC = cal('UTC');

// November 2026: Sun 1 (US DST ends, EDT -4 → EST -5), Fri 20, Sat 21, Mon 23, Tue 24, Wed 25.
// March 2026: Sun 8 (US DST starts, EST -5 → EDT -4).
describe('addBusinessDays', () => {
  it.each([
    ['Friday 16:00 NY + 2 = Tuesday 16:00 NY', NY, '2026-11-20T21:00:00.000Z', 2, '2026-11-24T21:00:00.000Z'],
    ['Friday 16:00 NY + 1 = Monday 16:00 NY', NY, '2026-11-20T21:00:00.000Z', 1, '2026-11-23T21:00:00.000Z'],
    ['Tuesday 09:00 NY + 2 = Thursday 09:00 NY', NY, '2026-11-17T14:00:00.000Z', 2, '2026-11-19T14:00:00.000Z'],
    ['Friday 16:00 NY + 0 = itself', NY, '2026-11-20T21:00:00.000Z', 0, '2026-11-20T21:00:00.000Z'],
    [
      'Saturday 10:00 NY + 2 = Wednesday 00:00 NY (counted from Monday 00:00)',
      NY,
      '2026-11-21T15:00:00.000Z',
      2,
      '2026-11-25T05:00:00.000Z',
    ],
    ['Sunday 23:59 NY + 1 = Tuesday 00:00 NY', NY, '2026-11-23T04:59:00.000Z', 1, '2026-11-24T05:00:00.000Z'],
    ['Saturday + 0 = Monday 00:00 NY', NY, '2026-11-21T15:00:00.000Z', 0, '2026-11-23T05:00:00.000Z'],
    [
      'Monday holiday: Friday 16:00 NY + 2 = Wednesday 16:00 NY',
      cal('America/New_York', ['2026-11-23']),
      '2026-11-20T21:00:00.000Z',
      2,
      '2026-11-25T21:00:00.000Z',
    ],
    [
      'Saturday start, Monday holiday: + 1 = Wednesday 00:00 NY',
      cal('America/New_York', ['2026-11-23']),
      '2026-11-21T15:00:00.000Z',
      1,
      '2026-11-25T05:00:00.000Z',
    ],
    [
      'fall back: Friday 16:00 EDT + 2 = Tuesday 16:00 EST',
      NY,
      '2026-10-30T20:00:00.000Z',
      2,
      '2026-11-03T21:00:00.000Z',
    ],
    [
      'spring forward: Friday 16:00 EST + 2 = Tuesday 16:00 EDT',
      NY,
      '2026-03-06T21:00:00.000Z',
      2,
      '2026-03-10T20:00:00.000Z',
    ],
    [
      'Friday 23:30 LA (Saturday 07:30 UTC) in LA: + 2 = Tuesday 23:30 LA',
      LA,
      '2026-11-21T07:30:00.000Z',
      2,
      '2026-11-25T07:30:00.000Z',
    ],
    [
      'the same instant in UTC is Saturday: + 2 = Wednesday 00:00 UTC',
      UTC,
      '2026-11-21T07:30:00.000Z',
      2,
      '2026-11-25T00:00:00.000Z',
    ],
    [
      'Friday 17:00 LA (Saturday 01:00 UTC) in LA: + 2 = Tuesday 17:00 LA',
      LA,
      '2026-11-21T01:00:00.000Z',
      2,
      '2026-11-25T01:00:00.000Z',
    ],
    [
      'Friday 23:30 UTC in UTC: + 2 = Tuesday 23:30 UTC',
      UTC,
      '2026-11-20T23:30:00.000Z',
      2,
      '2026-11-24T23:30:00.000Z',
    ],
    [
      'the same instant in Tokyo is Saturday 08:30: + 2 = Wednesday 00:00 JST',
      cal('Asia/Tokyo'),
      '2026-11-20T23:30:00.000Z',
      2,
      '2026-11-24T15:00:00.000Z',
    ],
  ])('%s', (_name, calendar, start, days, expected) => {
    expect(addBusinessDays(new Date(start), days, calendar).toISOString()).toBe(expected);
  });

  it('does not depend on the machine time zone (TZ is read once per process, so compare two zones)', () => {
    // Same local wall time in each zone, whatever process.env.TZ is.
    expect(addBusinessDays(new Date('2026-11-20T21:00:00Z'), 2, NY).toISOString()).toBe('2026-11-24T21:00:00.000Z');
    expect(addBusinessDays(new Date('2026-11-21T00:00:00Z'), 2, LA).toISOString()).toBe('2026-11-25T00:00:00.000Z');
  });

  // Known defect, reported rather than fixed here: the day-by-day walk passes through a wall time
  // that does not exist (02:30 on the spring-forward Sunday, a weekend day it steps over) and keeps
  // the shifted hour afterwards. Flip to \`it\` once business-days.ts keeps the wall time.
  it('keeps a 02:30 wall time across the spring-forward weekend', () => {
    // Friday 2026-03-06 02:30 EST + 1 = Monday 2026-03-09 02:30 EDT (06:30Z); it gives 03:30 EDT.
    expect(addBusinessDays(new Date('2026-03-06T07:30:00Z'), 1, NY).toISOString()).toBe('2026-03-09T06:30:00.000Z');
  });

  it('refuses a calendar without working days', () => {
    const never: BusinessCalendar = {
      timezone: 'UTC',
      weekend: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
      holidays: new Set(),
    };
    expect(() => addBusinessDays(new Date('2026-11-20T00:00:00Z'), 1, never)).toThrow(/no business days/);
  });
});

describe('regionCalendar', () => {
  const config = configWith((c) => {
    c.calendar = { holidays: ['2026-11-26'], timezone: 'Europe/London' };
    c.regions['amr-west'].holidays = ['2026-11-23'];
  });

  it('takes the region time zone and adds its own holidays to the shared ones', () => {
    const west = regionCalendar(config, 'amr-west');
    expect(west.timezone).toBe('America/Los_Angeles');
    expect([...west.holidays].sort()).toEqual(['2026-11-23', '2026-11-26']);
    const amr = regionCalendar(config, 'amr');
    expect(amr.timezone).toBe('America/New_York');
    expect([...amr.holidays]).toEqual(['2026-11-26']);
    expect(amr.weekend).toEqual(['sat', 'sun']);
  });

  it('falls back to the calendar time zone for no or an unknown region', () => {
    expect(regionCalendar(config, null).timezone).toBe('Europe/London');
    expect(regionCalendar(config, 'emea').timezone).toBe('Europe/London');
    expect([...regionCalendar(config, null).holidays]).toEqual(['2026-11-26']);
  });

  it('a region-specific holiday only moves that region’s deadlines', () => {
    // Friday 16:00 local + 2 business days; Monday 23 is a holiday in amr-west only.
    const fridayNY = new Date('2026-11-20T21:00:00Z');
    const fridayLA = new Date('2026-11-21T00:00:00Z');
    expect(addBusinessDays(fridayNY, 2, regionCalendar(config, 'amr')).toISOString()).toBe('2026-11-24T21:00:00.000Z');
    expect(addBusinessDays(fridayNY, 2, regionCalendar(config, 'amr-east')).toISOString()).toBe(
      '2026-11-24T21:00:00.000Z',
    );
    expect(addBusinessDays(fridayLA, 2, regionCalendar(config, 'amr-west')).toISOString()).toBe(
      '2026-11-26T00:00:00.000Z',
    );
  });

  it('a shared holiday moves every region (Thursday 26 off everywhere)', () => {
    // Tuesday 16:00 NY + 2: Wednesday (1), Thursday off, Friday (2).
    expect(addBusinessDays(new Date('2026-11-24T21:00:00Z'), 2, regionCalendar(config, 'amr')).toISOString()).toBe(
      '2026-11-27T21:00:00.000Z',
    );
  });

  it('the example configuration counts in UTC when a request has no region', () => {
    const plain = configWith(() => {});
    expect(regionCalendar(plain, null)).toEqual({ timezone: 'UTC', weekend: ['sat', 'sun'], holidays: new Set() });
  });
});

describe('public holidays from the maintained calendars (the example configuration)', () => {
  const config = configWith(() => {});
  const amr = regionCalendar(config, 'amr');
  const west = regionCalendar(config, 'amr-west');

  it.each([
    // US federal holidays of 2026 (date-holidays, type public) that the example keeps as days off.
    ['2026-11-26', 'Thanksgiving Day', 'amr', false],
    ['2026-12-25', 'Christmas Day', 'amr', false],
    ['2026-07-03', 'Independence Day (observed: the 4th is a Saturday)', 'amr', false],
    ['2027-01-01', "New Year's Day, next year (computed per year)", 'amr', false],
    // `except: [Columbus Day, Veterans Day]`: working days in amr.
    ['2026-10-12', 'Columbus Day, excepted', 'amr', true],
    ['2026-11-11', 'Veterans Day, excepted', 'amr', true],
    // California (state: CA) adds the day after Thanksgiving; New York (amr, country only) does not.
    ['2026-11-27', 'Day after Thanksgiving, CA only', 'amr-west', false],
    ['2026-11-27', 'Day after Thanksgiving, not federal', 'amr', true],
  ])('%s (%s) in %s is a business day: %s', (day, _name, region, expected) => {
    // Noon UTC is the same local date in New York and Los Angeles.
    expect(isBusinessDay(new Date(`${day}T17:00:00Z`), region === 'amr' ? amr : west)).toBe(expected);
  });

  it('an accept SLA of a US request skips Thanksgiving', () => {
    // Wednesday 25 November 2026, 10:00 New York (15:00Z) + 2 business days: Thursday 26 is
    // Thanksgiving, so Friday 27 (1) and Monday 30 (2) → Monday 30 10:00 New York = 15:00Z.
    expect(addBusinessDays(new Date('2026-11-25T15:00:00Z'), 2, amr).toISOString()).toBe('2026-11-30T15:00:00.000Z');
    // Los Angeles also has Friday 27 off: Monday 30 (1), Tuesday 1 December (2), 07:00 LA = 15:00Z.
    expect(addBusinessDays(new Date('2026-11-25T15:00:00Z'), 2, west).toISOString()).toBe('2026-12-01T15:00:00.000Z');
  });

  it('the region’s own dates still count on top', () => {
    const c = configWith((raw) => (raw.regions.amr.holidays = ['2026-11-27']));
    // Thanksgiving (library) and Friday 27 (own): Wednesday 25 15:00Z + 1 → Monday 30 15:00Z.
    expect(addBusinessDays(new Date('2026-11-25T15:00:00Z'), 1, regionCalendar(c, 'amr')).toISOString()).toBe(
      '2026-11-30T15:00:00.000Z',
    );
  });
});

describe('businessDaysBetween', () => {
  const friday = new Date('2026-11-20T21:00:00Z'); // Friday 16:00 NY
  it.each([
    ['end before start', '2026-11-20T20:00:00.000Z', 0],
    ['end equal to start', '2026-11-20T21:00:00.000Z', 0],
    ['over the weekend, Monday one ms before 16:00', '2026-11-23T20:59:59.999Z', 0],
    ['Monday 16:00 exactly', '2026-11-23T21:00:00.000Z', 1],
    ['one ms before the 2-day deadline', '2026-11-24T20:59:59.999Z', 1],
    ['exactly at the 2-day deadline', '2026-11-24T21:00:00.000Z', 2],
    ['a full week later', '2026-11-27T21:00:00.000Z', 5],
  ])('Friday 16:00 NY → %s', (_name, end, expected) => {
    expect(businessDaysBetween(friday, new Date(end), NY)).toBe(expected);
  });

  it('agrees with addBusinessDays around a deadline, also across DST and from a weekend', () => {
    for (const [start, c] of [
      ['2026-11-20T21:00:00Z', NY],
      ['2026-10-30T20:00:00Z', NY],
      ['2026-11-21T15:00:00Z', NY],
      ['2026-11-21T07:30:00Z', LA],
      ['2026-11-20T21:00:00Z', cal('America/New_York', ['2026-11-23'])],
    ] as const) {
      for (const n of [1, 2, 3, 10]) {
        const due = addBusinessDays(new Date(start), n, c);
        expect(businessDaysBetween(new Date(start), due, c)).toBe(n);
        expect(businessDaysBetween(new Date(start), new Date(due.getTime() - 1), c)).toBe(n - 1);
      }
    }
  });

  it('skips holidays', () => {
    const holiday = cal('America/New_York', ['2026-11-23']);
    expect(businessDaysBetween(friday, new Date('2026-11-24T21:00:00Z'), holiday)).toBe(1);
  });
});

describe('local helpers', () => {
  it('isBusinessDay uses the local date, not UTC', () => {
    const instant = new Date('2026-11-21T01:00:00Z'); // Friday 17:00 LA, Saturday 01:00 UTC
    expect(isBusinessDay(instant, LA)).toBe(true);
    expect(isBusinessDay(instant, UTC)).toBe(false);
    expect(isBusinessDay(new Date('2026-11-23T12:00:00Z'), cal('UTC', ['2026-11-23']))).toBe(false);
  });

  it('localDay and localMinutes read the wall clock of the zone', () => {
    const instant = new Date('2026-11-21T01:00:00Z');
    expect(localDay(instant, 'America/Los_Angeles')).toBe('2026-11-20');
    expect(localDay(instant, 'UTC')).toBe('2026-11-21');
    expect(localMinutes(instant, 'America/Los_Angeles')).toBe(17 * 60);
    // 01:30 happens twice on 2026-11-01 in New York: 05:30Z (EDT) and 06:30Z (EST).
    expect(localMinutes(new Date('2026-11-01T05:30:00Z'), 'America/New_York')).toBe(90);
    expect(localMinutes(new Date('2026-11-01T06:30:00Z'), 'America/New_York')).toBe(90);
    expect(localMinutes(new Date('2026-11-01T07:30:00Z'), 'America/New_York')).toBe(150);
    expect(localMinutes(new Date('2026-07-01T22:45:00Z'), 'America/New_York')).toBe(18 * 60 + 45); // EDT
  });
});

describe('calendar configuration', () => {
  it.each([
    ['a bad region time zone', (c: any) => (c.regions.amr.timezone = 'America/Nowhere'), 'regions.amr.timezone'],
    ['a bad calendar time zone', (c: any) => (c.calendar = { timezone: 'Mars/Olympus_Mons' }), 'calendar.timezone'],
    ['a non-existent holiday', (c: any) => (c.calendar = { holidays: ['2026-02-30'] }), 'calendar.holidays[0]'],
    [
      'a non-existent region holiday',
      (c: any) => (c.regions['amr-west'].holidays = ['2026-11-31']),
      'regions.amr-west.holidays[0]',
    ],
    ['a holiday that is no ISO date', (c: any) => (c.calendar = { holidays: ['11/26/2026'] }), 'calendar.holidays[0]'],
    [
      'an unknown holiday country',
      (c: any) => (c.regions.amr.publicHolidays = { country: 'XX' }),
      'regions.amr.publicHolidays.country',
    ],
    [
      'an unknown holiday state',
      (c: any) => (c.regions.amr.publicHolidays = { country: 'US', state: 'ZZ' }),
      'regions.amr.publicHolidays.state',
    ],
    [
      'a holiday name the calendar never has',
      (c: any) => (c.regions.amr.publicHolidays = { country: 'US', except: ['Columbus Day', 'Thanksgiving'] }),
      'regions.amr.publicHolidays.except[1]',
    ],
    [
      'an unknown holiday type',
      (c: any) => (c.regions.amr.publicHolidays = { country: 'US', types: ['national'] }),
      'regions.amr.publicHolidays.types[0]',
    ],
    [
      'a week with no working day',
      (c: any) => (c.calendar = { weekend: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] }),
      'calendar.weekend',
    ],
  ])('rejects %s', (_name, mutate, path) => {
    expect(problemsWith(mutate).map((p) => p.path)).toContain(path);
  });

  it('accepts a holiday name that occurs only in a later year, and still finds the typo beside it', () => {
    // US Election Day is a holiday in 2028 and 2032 only: the name check looks past the first year.
    const later = (except: string[]) =>
      problemsWith((c: any) => (c.regions.amr.publicHolidays = { country: 'US', except })).map((p) => p.path);
    expect(later(['Election Day', 'Columbus Day'])).toEqual([]);
    expect(later(['Election Day', 'Electon Day', 'Columbus Day'])).toEqual(['regions.amr.publicHolidays.except[1]']);
  });

  it('accepts a leap day and defaults the calendar', () => {
    const config = configWith((c) => (c.calendar = { holidays: ['2028-02-29'] }));
    expect(config.calendar).toEqual({ weekend: ['sat', 'sun'], holidays: ['2028-02-29'], timezone: 'UTC' });
    expect(config.regions.amr!.holidays).toEqual([]);
  });
});

describe('local wall times around DST changes, against TZDate', () => {
  // Every quarter hour of the two US change days and a day around each, in two zones: the cached
  // offsets must give the instants TZDate gives.
  it.each(['America/New_York', 'America/Los_Angeles', 'Asia/Kolkata', 'Australia/Lord_Howe'])('%s', (tz) => {
    const cal = { timezone: tz, weekend: [] as const, holidays: new Set<string>() };
    for (const day of [
      '2026-03-07',
      '2026-03-08',
      '2026-03-09',
      '2026-10-31',
      '2026-11-01',
      '2026-11-02',
      '2026-04-05',
      '2026-10-04',
    ]) {
      const [y, m, d] = day.split('-').map(Number) as [number, number, number];
      for (let q = 0; q < 96; q++) {
        const expected = new TZDate(y, m - 1, d, Math.floor(q / 4), (q % 4) * 15, 0, 0, tz);
        // addBusinessDays(x, 0) is the first business moment: x itself on a calendar with no weekend.
        expect(addBusinessDays(new Date(expected.getTime()), 0, cal).toISOString(), `${day} q${q}`).toBe(
          new Date(expected.getTime()).toISOString(),
        );
        // A day later at the same wall time, as TZDate builds it (a skipped time moves forward).
        const next = new TZDate(
          expected.getFullYear(),
          expected.getMonth(),
          expected.getDate() + 1,
          expected.getHours(),
          expected.getMinutes(),
          0,
          0,
          tz,
        );
        expect(addBusinessDays(new Date(expected.getTime()), 1, cal).toISOString(), `${day} q${q} + 1`).toBe(
          new Date(next.getTime()).toISOString(),
        );
        expect(localDay(new Date(expected.getTime()), tz)).toBe(
          `${expected.getFullYear()}-${String(expected.getMonth() + 1).padStart(2, '0')}-${String(expected.getDate()).padStart(2, '0')}`,
        );
      }
    }
  });
});
