import { customPeriod, periodOf, PeriodError, type Period, type PeriodProblem } from '../domain/report-period.js';
import { CliError } from './io.js';

/** The period `report` covers, from `--period` or `--from`/`--to`; a `CliError` that names the option when it is wrong. */
export function periodFrom(
  opts: { period: string; from?: string; to?: string },
  periodGiven: boolean,
  now: Date,
): Period {
  if (opts.from !== undefined || opts.to !== undefined) {
    if (opts.from === undefined || opts.to === undefined)
      throw new CliError('--from and --to go together (both dates, YYYY-MM-DD)');
    if (periodGiven) throw new CliError('give --period or --from/--to, not both');
    try {
      return customPeriod(opts.from, opts.to);
    } catch (err) {
      if (err instanceof PeriodError) throw new CliError(periodProblemText(err.problem));
      throw err;
    }
  }
  if (opts.period !== 'week' && opts.period !== 'month')
    throw new CliError(`--period must be "week" or "month", not "${opts.period}"`);
  return periodOf(opts.period, now);
}

/** A period problem in the words of the command line's options. */
export function periodProblemText(problem: PeriodProblem): string {
  return problem.kind === 'invalid-date'
    ? `--${problem.end} "${problem.value}" is not a valid date; use YYYY-MM-DD, e.g. 2026-11-01`
    : `--from ${problem.from} is after --to ${problem.to}; the period would be empty`;
}
