import { describe, expect, it } from 'vitest';
import { periodFrom } from '../../src/cli/period-option.js';
import { CliError } from '../../src/cli/io.js';

const NOW = new Date('2026-12-02T10:00:00Z');
const custom = (from: string, to: string) => () => periodFrom({ period: 'week', from, to }, false, NOW);

describe('report period options', () => {
  it('reads --period and --from/--to', () => {
    expect(periodFrom({ period: 'month' }, true, NOW).label).toBe('2026-11');
    expect(periodFrom({ period: 'week', from: '2026-11-01', to: '2026-11-30' }, false, NOW)).toEqual({
      label: '2026-11-01..2026-11-30',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
    });
  });

  it('names the option whose date is not real or not YYYY-MM-DD', () => {
    expect(custom('2026-02-30', '2026-03-01')).toThrow(CliError);
    expect(custom('2026-02-30', '2026-03-01')).toThrow(
      '--from "2026-02-30" is not a valid date; use YYYY-MM-DD, e.g. 2026-11-01',
    );
    expect(custom('2026-01-01', '2027-02-29')).toThrow('--to "2027-02-29" is not a valid date');
    expect(custom('2026-1-1', '2026-01-31')).toThrow(/--from "2026-1-1" is not a valid date/);
    expect(custom('2026-01-01', 'yesterday')).toThrow(/--to "yesterday"/);
    expect(custom('2026-01-01T00:00:00Z', '2026-01-31')).toThrow(/--from/);
  });

  it('says when --from is after --to', () => {
    expect(custom('2026-11-02', '2026-11-01')).toThrow(
      '--from 2026-11-02 is after --to 2026-11-01; the period would be empty',
    );
  });
});
