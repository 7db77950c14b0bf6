import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isCollection, LineCounter, parseDocument, type Document } from 'yaml';
import { compileConfig, type Config } from '../domain/config.js';
import type { CompileProblem } from '../domain/forms.js';
import { PACKAGE_ROOT } from '../package-root.js';

export const DEFAULT_CONFIG_PATH = '.gitlab/scale-bot.yml';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: CompileProblem[],
  ) {
    super(`${file}: ${problems.length} problem(s) in the configuration`);
    this.name = 'ConfigError';
  }

  /** One line per problem, with its YAML path and, where the file has it, its line:column. */
  describe(): string {
    return [`Configuration ${this.file} is invalid:`, ...this.problems.map((p) => `  - ${describeProblem(p)}`)].join(
      '\n',
    );
  }
}

export function describeProblem(p: CompileProblem): string {
  return `${p.path}${p.line !== undefined ? ` (line ${p.line}:${p.column ?? 1})` : ''}: ${p.message}`;
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

/**
 * Parses and validates configuration text. YAML 1.2's core schema keeps dates as strings (YAML 1.1
 * turned 2027-01-02 into a Date); every problem carries its YAML path and its line:column.
 */
export function parseConfigText(text: string, file: string): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, schema: 'core', uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const at = lineCounter.linePos(e.pos[0]);
        return {
          path: '(YAML syntax)',
          message: `not valid YAML: ${e.message.split('\n')[0]}`,
          line: at.line,
          column: at.col,
        };
      }),
    );
  }
  const result = compileConfig(doc.toJS({ maxAliasCount: 100 }));
  if (!result.ok)
    throw new ConfigError(
      file,
      result.problems.map((p) => ({ ...p, ...locate(doc, lineCounter, p.path) })),
    );
  return result.config;
}

/** `routing.pools[2].members[0]` → ['routing', 'pools', 2, 'members', 0]. */
function pathKeys(path: string): Array<string | number> {
  if (path.startsWith('(')) return [];
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

/** Where a problem's path is in the file: the deepest node of the path that the file has. */
function locate(doc: Document, lineCounter: LineCounter, path: string): { line?: number; column?: number } {
  const keys = pathKeys(path);
  for (let n = keys.length; n > 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true);
    if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
      const at = lineCounter.linePos(node.range[0] as number);
      return { line: at.line, column: at.col };
    }
  }
  const root = doc.contents;
  if (isCollection(root) && root.range) {
    const at = lineCounter.linePos(root.range[0]);
    return { line: at.line, column: at.col };
  }
  return {};
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [
      { path: '(file)', message: code === 'ENOENT' ? 'file not found' : `cannot read: ${code ?? String(err)}` },
    ]);
  }
  return parseConfigText(text, file);
}
