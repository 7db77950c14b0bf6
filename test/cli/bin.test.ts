import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './run-cli.js';

// The README's main command, through the real executable (compiled by `npm test` / `npm ci`).
describe('bin/scale-bot.js', () => {
  it('parses the bundled samples: one report per file, exit 1 because some are meant to fail', () => {
    const samples = readdirSync(join(REPO_ROOT, 'samples', 'requests')).map((f) => join('samples', 'requests', f));
    const r = spawnSync(process.execPath, ['bin/scale-bot.js', 'parse', ...samples, '--author', 'alex.ae'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(r.stdout.match(/^== /gm)).toHaveLength(samples.length);
  });

  it('stops quietly, exit 0, when the reader of its output goes away (| head)', async () => {
    const samples = readdirSync(join(REPO_ROOT, 'samples', 'requests')).map((f) => join('samples', 'requests', f));
    const child = spawn(process.execPath, ['bin/scale-bot.js', 'parse', ...samples, '--author', 'alex.ae'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH },
    });
    // Closed before the CLI writes a byte: its first write fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('prints its version', () => {
    const r = spawnSync(process.execPath, ['bin/scale-bot.js', '--version'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs the same from dist/cli/main.js (once, not silently)', () => {
    for (const entry of ['bin/scale-bot.js', 'dist/cli/main.js']) {
      const r = spawnSync(process.execPath, [entry, 'inbox', 'retry'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe('scale-bot: give a job id or --all-failed (one of them)\n');
    }
  });
});
