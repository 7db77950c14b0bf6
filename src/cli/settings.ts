import type { Command } from 'commander';
import { ConfigError } from '../config/load-config.js';
import type { Config } from '../domain/config.js';
import { readSettings, SettingsError, type ServiceSettings } from '../service/settings.js';
import { CliError, EXIT, type CliIO } from './io.js';
import { loadCliConfig } from './load.js';

/**
 * The environment's settings and the configuration, or one usage error naming every problem in
 * both: a broken config file is reported with the missing variables, not on the next try. Commands
 * that talk to GitLab read the configuration from the project's repository (`'repository'`) unless
 * `--config` or `SCALE_BOT_CONFIG` names a local file, the override for tests, the demo and
 * air-gapped setups.
 */
export function settingsOrExit(
  program: Command,
  io: CliIO,
  need: { webhook: boolean },
): { settings: ServiceSettings; config: Config | 'repository' } {
  let settings: ServiceSettings | null = null;
  let config: Config | 'repository' | null = null;
  const problems: string[] = [];
  try {
    settings = readSettings(io.env, need);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    problems.push(err.message);
  }
  try {
    const local = program.opts<{ config?: string }>().config ?? io.env.SCALE_BOT_CONFIG;
    config = local ? loadCliConfig(program, io).config : 'repository';
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(err.describe());
  }
  if (settings === null || config === null) throw new CliError(problems.join('\n'), EXIT.usage);
  return { settings, config };
}
