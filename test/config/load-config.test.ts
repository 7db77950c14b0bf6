import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfigText, resolveConfigPath } from '../../src/config/load-config.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reports YAML syntax errors with line and column', () => {
    const err = configError(() => parseConfigText('version: 1\nbot: [unclosed\n', 'bad.yml'));
    expect(err.problems.length).toBeGreaterThan(0);
    expect(err.problems[0]).toMatchObject({
      path: '(YAML syntax)',
      line: expect.any(Number),
      column: expect.any(Number),
    });
    expect(err.problems[0]!.line).toBeGreaterThanOrEqual(2);
    expect(err.describe()).toContain('bad.yml');
    expect(err.describe()).toMatch(/\(YAML syntax\) \(line \d+:\d+\): not valid YAML/);
  });

  it('gives every validation problem the line:column of its YAML path', () => {
    const text = readFileSync(resolve(PACKAGE_ROOT, '.gitlab/scale-bot.yml'), 'utf8');
    const broken = text.replace('members: [emery.cse, gray.cse]', 'members: [emery.cse, alex.ae]');
    expect(broken).not.toBe(text);
    const lines = broken.split('\n');
    const row = lines.findIndex((l) => l.includes('members: [emery.cse, alex.ae]'));
    const err = configError(() => parseConfigText(broken, 'scale-bot.yml'));
    const problem = err.problems.find((p) => p.path === 'routing.pools[2].members[1]');
    expect(problem).toEqual({
      path: 'routing.pools[2].members[1]',
      message: '"alex.ae" is not a cse',
      line: row + 1,
      column: lines[row]!.indexOf('alex.ae') + 1,
    });
    expect(err.describe()).toContain(
      `routing.pools[2].members[1] (line ${row + 1}:${lines[row]!.indexOf('alex.ae') + 1}): "alex.ae" is not a cse`,
    );
  });

  it('refuses a key given twice, at the second one', () => {
    const err = configError(() => parseConfigText('version: 1\nversion: 1\n', 'dup.yml'));
    expect(err.problems[0]).toMatchObject({ path: '(YAML syntax)', line: 2 });
  });

  it('reports a missing file clearly', () => {
    const err = configError(() => loadConfig('/nonexistent/scale-bot.yml'));
    expect(err.problems).toEqual([{ path: '(file)', message: 'file not found' }]);
  });

  it('keeps unquoted dates as strings (no YAML timestamp conversion)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scale-bot-'));
    const file = join(dir, 'c.yml');
    writeFileSync(file, 'version: 1\n');
    const err = configError(() => loadConfig(file));
    // A near-empty file: every missing section is reported, each with its path.
    expect(err.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['bot', 'fields', 'forms', 'segments', 'regions', 'routing']),
    );
  });

  it('lists one line per problem in describe()', () => {
    const err = configError(() => parseConfigText('version: 3\n', 'x.yml'));
    const lines = err.describe().split('\n');
    expect(lines[0]).toBe('Configuration x.yml is invalid:');
    expect(lines.length).toBe(err.problems.length + 1);
    expect(lines.slice(1).every((l) => l.startsWith('  - '))).toBe(true);
  });
});

describe('resolveConfigPath', () => {
  it('prefers --config, then SCALE_BOT_CONFIG, then the local default, then the bundled example', () => {
    const empty = mkdtempSync(join(tmpdir(), 'scale-bot-'));
    expect(resolveConfigPath('a.yml', { SCALE_BOT_CONFIG: 'b.yml' }, '/w')).toBe('/w/a.yml');
    expect(resolveConfigPath(undefined, { SCALE_BOT_CONFIG: 'b.yml' }, '/w')).toBe('/w/b.yml');
    expect(resolveConfigPath(undefined, {}, PACKAGE_ROOT)).toBe(resolve(PACKAGE_ROOT, '.gitlab/scale-bot.yml'));
    expect(resolveConfigPath(undefined, {}, empty)).toBe(resolve(PACKAGE_ROOT, '.gitlab/scale-bot.yml'));
  });
});
