import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './run-cli.js';

/**
 * Issue #16, point 11: the test-only fake GitLab is not part of what the CLI loads at run time;
 * only `scale-bot demo` imports it, on demand. (The packed-install smoke test, test/pack/smoke.sh,
 * shows the same from the other side: `serve` runs from a package that leaves the fake out.)
 */

const SRC = join(REPO_ROOT, 'src');

const STATIC_IMPORT = /^(?:(?:import|export)(?!\s+type\b)[^;'"]*?\bfrom\s+|import\s+)'(\.[^']+)'/gm;
const DYNAMIC_IMPORT = /\bawait import\('(\.[^']+)'\)/g;

/**
 * Modules `from` can load: its value (not `import type`) imports, transitively; with `onDemand`,
 * also what commands load when they run (`await import(...)`), except from the files it names.
 */
function importGraph(from: string, onDemand: { except: string[] } | null = null): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const followed = [...text.matchAll(STATIC_IMPORT)];
    if (onDemand && !onDemand.except.includes(relative(SRC, file))) followed.push(...text.matchAll(DYNAMIC_IMPORT));
    for (const m of followed) visit(resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  };
  visit(from);
  return new Set([...seen].map((f) => relative(SRC, f)));
}

describe('what the CLI loads at run time', () => {
  const atStart = importGraph(join(SRC, 'cli', 'main.ts'));
  const whenRun = importGraph(join(SRC, 'cli', 'main.ts'), { except: [join('cli', 'demo-command.ts')] });

  it('reaches the service, the jobs and the domain (the walk follows imports)', () => {
    expect(whenRun).toContain(join('service', 'service.ts'));
    expect(whenRun).toContain(join('queue', 'redis-inbox.ts'));
    expect(atStart).toContain(join('jobs', 'report-job.ts'));
    expect(atStart).toContain(join('domain', 'decide.ts'));
    expect(atStart).toContain(join('cli', 'demo-command.ts'));
  });

  it('never the fake GitLab nor the demo that uses it', () => {
    expect([...whenRun].filter((f) => f.startsWith('fake-gitlab') || f.startsWith('demo'))).toEqual([]);
  });

  it('the demo itself does use the fake (so the check above has something to find)', () => {
    expect(importGraph(join(SRC, 'demo', 'demo.ts'))).toContain(join('fake-gitlab', 'server.ts'));
  });

  // Every command starts by loading all of them: the service, the status page and BullMQ are
  // loaded by the commands that run them (about 0.4 s of CPU and 30 MB at every other start).
  it('loads the service, its Redis queue and its pages only for the commands that run them', () => {
    const service = ['service/service.ts', 'service/redis-mode.ts', 'queue/redis-inbox.ts', 'server/app.ts'];
    expect(service.filter((f) => atStart.has(f))).toEqual([]);
    expect([...atStart].filter((f) => f.startsWith('status/') && f !== join('status', 'settings.ts'))).toEqual([]);
  });
});
