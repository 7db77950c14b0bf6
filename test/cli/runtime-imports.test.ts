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

/** Modules loaded when `from` is: its static, value (not `import type`) imports, transitively. */
function staticGraph(from: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:(?:import|export)(?!\s+type\b)[^;'"]*?\bfrom\s+|import\s+)'(\.[^']+)'/gm)) {
      visit(resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
    }
  };
  visit(from);
  return new Set([...seen].map((f) => relative(SRC, f)));
}

describe('what the CLI loads at run time', () => {
  const graph = staticGraph(join(SRC, 'cli', 'main.ts'));

  it('reaches the service, the jobs and the domain (the walk follows imports)', () => {
    expect(graph).toContain(join('service', 'service.ts'));
    expect(graph).toContain(join('jobs', 'report-job.ts'));
    expect(graph).toContain(join('domain', 'decide.ts'));
    expect(graph).toContain(join('cli', 'demo-command.ts'));
  });

  it('never the fake GitLab nor the demo that uses it', () => {
    expect([...graph].filter((f) => f.startsWith('fake-gitlab') || f.startsWith('demo'))).toEqual([]);
  });

  it('the demo itself does use the fake (so the check above has something to find)', () => {
    expect(staticGraph(join(SRC, 'demo', 'demo.ts'))).toContain(join('fake-gitlab', 'server.ts'));
  });
});
