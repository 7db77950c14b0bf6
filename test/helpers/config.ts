import { resolve } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/domain/config.js';

export const EXAMPLE_CONFIG_PATH = resolve(import.meta.dirname, '..', '..', '.gitlab', 'scale-bot.yml');

let cached: Config | undefined;
/** The shipped example configuration, loaded once per test file. */
export function exampleConfig(): Config {
  cached ??= loadConfig(EXAMPLE_CONFIG_PATH);
  return cached;
}

let weekendsOnly: Config | undefined;
/**
 * The example configuration without its regions' public holidays: for tests whose hand-computed
 * deadlines in late November 2026 count weekends only (Thanksgiving, 26 November, would move them).
 * The public holidays themselves are tested in test/domain/business-days.test.ts and
 * test/domain/report-history.test.ts.
 */
export function weekendsOnlyConfig(): Config {
  if (!weekendsOnly) {
    const c = exampleConfig();
    const regions = Object.fromEntries(
      Object.entries(c.regions).map(([id, r]) => [id, { ...r, publicHolidays: null }]),
    );
    weekendsOnly = { ...c, regions } as Config;
  }
  return weekendsOnly;
}
