import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/package-root.js';

/**
 * Every bench in bench/ run at a toy size against the built dist/ (npm test builds it first): the
 * figures mean nothing here, but a bench that no longer starts the service, or whose own checks
 * of what the bot did fail, fails CI instead of being found broken at the next measurement.
 * Two benches were silently broken that way before this test existed (an app answering 500 to
 * every delivery, a service that would not start).
 */
const run = promisify(execFile);
const bench = async (name: string, args: string[]) => {
  const { stdout } = await run(process.execPath, [join(PACKAGE_ROOT, 'bench', name), ...args], {
    cwd: PACKAGE_ROOT,
    maxBuffer: 16 * 1024 * 1024,
    timeout: 170_000,
  });
  return stdout;
};
const MINUTES_3 = 180_000;

describe('the benches run at a toy size', () => {
  it('parse', { timeout: MINUTES_3 }, async () => {
    const out = await bench('parse.js', ['--runs', '1', '--count', '200']);
    expect(out).toMatch(/parse\+validate\+qualify: median [\d,]+ descriptions\/s/);
  });

  it('ingest: the app accepts every delivery (202) and persists it', { timeout: MINUTES_3 }, async () => {
    const out = await bench('ingest.js', ['--runs', '1', '--duration', '1', '--rate-duration', '1', '--warmup', '0']);
    expect(out).toMatch(/ {2}app : median [\d,]+ req\/s .*; status 202, non-2xx\/errors 0/);
    expect(out).toMatch(/ {2}app : .*500 req\/s achieved, non-2xx\/errors 0/);
    expect(out).toMatch(/inbox after the run: [\d,]+ deliveries persisted/);
  });

  it(
    'e2e: every new request assigned, within the call and write counts, nothing GitLab would act on',
    { timeout: MINUTES_3 },
    async () => {
      const args = ['--rate', '5', '--seconds', '2', '--concurrency', '4', '--search-limits', '0', '--burst', '4'];
      const out = await bench('e2e.js', args);
      expect(out).toMatch(/rush: 4 new requests at once → labelled and assigned: .*count 4\/4/);
      expect(out).toMatch(/webhook → labelled and assigned: .*count 10\/10/);
      expect(out).toContain('fake GitLab violations (text GitLab would act on): 0');
      expect(out).toContain('target ≤ 5 calls per new request: met');
      expect(out).toContain('target 0 writes for a redundant event: met');
    },
  );

  it(
    'hostile: the flood is refused, the held lock survived, the issue handled, a clean exit',
    { timeout: MINUTES_3 },
    async () => {
      const out = await bench('hostile.js', ['--rounds', '1', '--concurrency', '2', '--mb', '2', '--hold', '2']);
      // Each token-less post is refused: answered 401, or cut off while still sending (the server
      // answers before the body has arrived and closes), never accepted.
      const answers = /round 1: (.*) in \d+ ms;/.exec(out)?.[1]?.split(', ') ?? [];
      expect(
        answers.every((a) => /^\d+× (401|EPIPE|ECONNRESET)$/.test(a)),
        answers.join(', '),
      ).toBe(true);
      expect(answers.reduce((n, a) => n + parseInt(a, 10), 0)).toBe(2);
      expect(out).toContain('process alive after: true (crashes: 0)');
      expect(out).toContain('handled by the bot after the lock was released');
      expect(out).toContain('SIGTERM: exit 0');
    },
  );

  // It audits what the fake GitLab saw and exits 1 (failing execFile) when the audit fails. The kill
  // phase is left out: it waits for the job lock of the killed replicas (30 s) several times over.
  it('scale: replicas on Redis, Redis restarted, audited', { timeout: MINUTES_3 }, async () => {
    const args = ['--requests', '6', '--replicas', '1', '--redis-down', '1', '--phases', 'throughput,redis'];
    const out = await bench('scale.js', args);
    expect(out).toMatch(/"phase":"throughput","replicas":1,"requests":6,.*"allHandled":true,"drained":true/);
    expect(out).toMatch(/"phase":"redis restart","requests":6,.*"allHandled":true,"drained":true/);
    expect(out).toContain('"audit":"passed"');
  });

  // Both check their own result against what was seeded and fail otherwise.
  it('report', { timeout: MINUTES_3 }, async () => {
    expect(await bench('report.js', ['--sizes', '40', '--runs', '1'])).toMatch(/ {4}40 requests \(seeded in/);
  });

  it('simulate', { timeout: MINUTES_3 }, async () => {
    expect(await bench('simulate.js', ['--sizes', '40', '--runs', '1'])).toMatch(
      /10 changed: 10 of 40 request\(s\) would change/,
    );
  });
});
