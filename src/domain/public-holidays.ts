// Loading the library's code lazily is not I/O the domain must avoid: the calendars are pure rules.
// eslint-disable-next-line no-restricted-imports
import { createRequire } from 'node:module';
import type HolidaysLib from 'date-holidays';

/** The library holds every country's rules (a large load): loaded on first use, not at every CLI start. */
let loaded: typeof HolidaysLib | undefined;
const library = (): typeof HolidaysLib =>
  (loaded ??= createRequire(import.meta.url)('date-holidays') as typeof HolidaysLib);

/**
 * Public holidays from `date-holidays` (maintained calendars by country and state), so a region's
 * days off are not a hand-kept list. Pure computation from the library's bundled rules.
 */

export const HOLIDAY_TYPES = ['public', 'bank', 'school', 'optional', 'observance'] as const;
export type HolidayType = (typeof HOLIDAY_TYPES)[number];

export interface PublicHolidayRule {
  country: string;
  state?: string | undefined;
  types: readonly HolidayType[];
  /** Holiday names that are working days. */
  except: readonly string[];
}

/** Years the `except` names are checked against: a name that occurs in none is a typo. */
const NAME_CHECK_YEARS = [2026, 2027, 2028, 2029, 2030, 2031, 2032];

/** What is wrong with a country/state pair (null when the library knows it). */
export function publicHolidaysProblem(
  country: string,
  state: string | undefined,
): { field: 'country' | 'state'; message: string } | null {
  const lib = new (library())();
  if (!lib.getCountries()[country])
    return {
      field: 'country',
      message: 'not a country the holiday calendars know (use an ISO 3166-1 code, e.g. "US")',
    };
  if (state !== undefined && !(lib.getStates(country) ?? {})[state]) {
    return {
      field: 'state',
      message: `not a state or province of ${country} the holiday calendars know (e.g. "NY" for US)`,
    };
  }
  return null;
}

/** The names in a calendar ("US/", "US/CA") in a year, computed once: regions and configurations share calendars. */
const namesByCalendarYear = new Map<string, ReadonlySet<string>>();

function holidayNames(country: string, state: string | undefined, year: number): ReadonlySet<string> {
  const key = `${country}/${state ?? ''}/${year}`;
  let names = namesByCalendarYear.get(key);
  if (!names) {
    const lib = new (library())(country, state ?? '', { languages: ['en'] });
    names = new Set((lib.getHolidays(year, 'en') || []).map((h) => h.name));
    namesByCalendarYear.set(key, names);
  }
  return names;
}

/**
 * The `except` names the calendar never has (typos). A year of a calendar costs tens of
 * milliseconds, so later years are computed only for names not found yet (usually none after the
 * first: the result is the same, at a seventh of the cost of every CLI start).
 */
export function unknownHolidayNames(rule: PublicHolidayRule): string[] {
  let unknown = [...rule.except];
  for (const year of NAME_CHECK_YEARS) {
    if (unknown.length === 0) break;
    const names = holidayNames(rule.country, rule.state, year);
    unknown = unknown.filter((n) => !names.has(n));
  }
  return unknown;
}

/** Per rule (the configuration's object, asked for every day a deadline walks) and year. */
const byRule = new WeakMap<PublicHolidayRule, Map<number, ReadonlySet<string>>>();

/** The local dates (YYYY-MM-DD) of the rule's holidays in `year`; computed once per rule and year. */
export function publicHolidayDates(rule: PublicHolidayRule, year: number): ReadonlySet<string> {
  let years = byRule.get(rule);
  if (!years) byRule.set(rule, (years = new Map()));
  let dates = years.get(year);
  if (!dates) {
    const lib = new (library())(rule.country, rule.state ?? '', { languages: ['en'], types: [...rule.types] });
    const skip = new Set(rule.except);
    // `date` is the local date and time the holiday starts ("2026-11-26 00:00:00"): the day is its first 10 characters.
    dates = new Set(
      (lib.getHolidays(year, 'en') || []).filter((h) => !skip.has(h.name)).map((h) => h.date.slice(0, 10)),
    );
    years.set(year, dates);
  }
  return dates;
}
