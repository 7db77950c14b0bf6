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
