import type { Command } from 'commander';
import { loadConfig, resolveConfigPath } from '../config/load-config.js';
import type { Config } from '../domain/config.js';
import type { CliIO } from './io.js';

/** Loads the configuration named by `--config`, `SCALE_BOT_CONFIG` or the default path. */
export function loadCliConfig(program: Command, io: CliIO): { config: Config; file: string } {
  const file = resolveConfigPath(program.opts<{ config?: string }>().config, io.env, io.cwd);
  return { config: loadConfig(file), file };
}
