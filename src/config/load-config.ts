import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { compileConfig, type Config } from '../domain/config.js';
import type { CompileProblem } from '../domain/forms.js';

export const DEFAULT_CONFIG_PATH = '.gitlab/scale-bot.yml';

/** The package's own root, where the bundled example configuration and templates live. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: CompileProblem[],
  ) {
    super(`${file}: ${problems.length} problem(s) in the configuration`);
    this.name = 'ConfigError';
  }

  /** One line per problem, with its YAML path. */
  describe(): string {
    return [`Configuration ${this.file} is invalid:`, ...this.problems.map((p) => `  - ${p.path}: ${p.message}`)].join('\n');
  }
}

/**
 * Which file to read: an explicit `--config`, then `SCALE_BOT_CONFIG`, then `.gitlab/scale-bot.yml`
 * in the working directory, then the example bundled with the package (the embedded default).
 */
export function resolveConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const chosen = explicit ?? env.SCALE_BOT_CONFIG;
  if (chosen) return resolve(cwd, chosen);
  const local = resolve(cwd, DEFAULT_CONFIG_PATH);
  return existsSync(local) ? local : resolve(PACKAGE_ROOT, DEFAULT_CONFIG_PATH);
}

export function parseConfigText(text: string, file: string): Config {
  let doc: unknown;
  try {
    // CORE_SCHEMA keeps dates as strings (the default schema turns 2027-01-02 into a Date).
    doc = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (err) {
    const e = err as yaml.YAMLException;
    const where = e.mark ? `line ${e.mark.line + 1}, column ${e.mark.column + 1}` : '(top level)';
    throw new ConfigError(file, [{ path: where, message: `not valid YAML: ${e.reason ?? e.message}` }]);
  }
  const result = compileConfig(doc);
  if (!result.ok) throw new ConfigError(file, result.problems);
  return result.config;
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [{ path: '(file)', message: code === 'ENOENT' ? 'file not found' : `cannot read: ${code ?? String(err)}` }]);
  }
  return parseConfigText(text, file);
}
