import { describe, expect, it } from 'vitest';
import { customPeriod, isoWeekLabel, PeriodError, periodOf } from '../../src/domain/report-period.js';

describe('periodOf', () => {
  it('gives the last complete ISO week, Monday 00:00Z to the next Monday', () => {
    // Thursday 2026-12-03: the last complete week is Mon 2026-11-23 .. Mon 2026-11-30 (W48).
    expect(periodOf('week', new Date('2026-12-03T12:00:00Z'))).toEqual({
      label: '2026-W48',
      from: '2026-11-23T00:00:00.000Z',
      to: '2026-11-30T00:00:00.000Z',
    });
  });

  it('counts a week that ends exactly at now as complete', () => {
    expect(periodOf('week', new Date('2026-11-30T00:00:00Z')).label).toBe('2026-W48');
    // One millisecond earlier, W48 is still running: W47.
    expect(periodOf('week', new Date('2026-11-29T23:59:59.999Z')).label).toBe('2026-W47');
  });

  it('labels weeks by ISO week-numbering year across the new year', () => {
    // Mon 2026-12-28 .. Mon 2027-01-04 is 2026-W53 (2026 has 53 ISO weeks: it starts on a Thursday).
    expect(periodOf('week', new Date('2027-01-05T09:00:00Z'))).toEqual({
      label: '2026-W53',
      from: '2026-12-28T00:00:00.000Z',
      to: '2027-01-04T00:00:00.000Z',
    });
    // 2027-01-01 (a Friday) belongs to 2026-W53; 2025-12-29 (a Monday) to 2026-W01.
    expect(isoWeekLabel(new Date('2027-01-01T12:00:00Z'))).toBe('2026-W53');
    expect(isoWeekLabel(new Date('2025-12-29T00:00:00Z'))).toBe('2026-W01');
  });

  it('gives the last complete calendar month', () => {
    expect(periodOf('month', new Date('2026-12-03T12:00:00Z'))).toEqual({
      label: '2026-11',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
    });
    expect(periodOf('month', new Date('2026-12-01T00:00:00Z')).label).toBe('2026-11');
    expect(periodOf('month', new Date('2027-01-15T00:00:00Z'))).toEqual({
      label: '2026-12',
      from: '2026-12-01T00:00:00.000Z',
      to: '2027-01-01T00:00:00.000Z',
    });
    // February of a non-leap year ends on the 28th.
    expect(periodOf('month', new Date('2027-03-10T00:00:00Z')).to).toBe('2027-03-01T00:00:00.000Z');
    expect(periodOf('month', new Date('2027-03-10T00:00:00Z')).from).toBe('2027-02-01T00:00:00.000Z');
  });

  it('works in UTC whatever the instant looks like locally', () => {
    // 23:30 on Sunday in New York is already Monday in UTC: the week before is complete.
    expect(periodOf('week', new Date('2026-11-30T04:30:00Z')).label).toBe('2026-W48');
  });

  it('rejects an invalid now', () => {
    expect(() => periodOf('week', new Date('nope'))).toThrow(/not a valid date/);
  });
});

describe('customPeriod', () => {
  it('takes both days inclusive: to is the start of the day after', () => {
    expect(customPeriod('2026-11-01', '2026-11-30')).toEqual({
      label: '2026-11-01..2026-11-30',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
    });
  });

  it('allows a single day', () => {
    expect(customPeriod('2028-02-29', '2028-02-29')).toEqual({
      label: '2028-02-29..2028-02-29',
      from: '2028-02-29T00:00:00.000Z',
      to: '2028-03-01T00:00:00.000Z',
    });
  });

  it('rejects dates that are not real or not YYYY-MM-DD, with the facts (the CLI words them: test/cli/period-option.test.ts)', () => {
    const problem = (from: string, to: string) => {
      try {
        customPeriod(from, to);
      } catch (err) {
        if (err instanceof PeriodError) return err.problem;
        throw err;
      }
      throw new Error(`${from}..${to} was accepted`);
    };
    expect(problem('2026-02-30', '2026-03-01')).toEqual({ kind: 'invalid-date', end: 'from', value: '2026-02-30' });
    expect(problem('2026-01-01', '2027-02-29')).toEqual({ kind: 'invalid-date', end: 'to', value: '2027-02-29' });
    expect(problem('2026-1-1', '2026-01-31')).toEqual({ kind: 'invalid-date', end: 'from', value: '2026-1-1' });
    expect(problem('2026-01-01', 'yesterday')).toEqual({ kind: 'invalid-date', end: 'to', value: 'yesterday' });
    expect(problem('2026-01-01T00:00:00Z', '2026-01-31')).toMatchObject({ kind: 'invalid-date', end: 'from' });
    expect(() => customPeriod('2026-02-30', '2026-03-01')).toThrow('the first day "2026-02-30" is not a valid date');
  });

  it('rejects from after to', () => {
    expect(() => customPeriod('2026-11-02', '2026-11-01')).toThrow(PeriodError);
    expect(() => customPeriod('2026-11-02', '2026-11-01')).toThrow(
      'the first day 2026-11-02 is after the last day 2026-11-01',
    );
  });
});
