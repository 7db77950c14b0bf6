import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cli/run-cli.js';

/**
 * Issue #16, point 10. The image cannot be built here (no registry); test/pack/smoke.mjs runs the
 * package and install it is made from. These checks keep the Dockerfile to what the README promises.
 */

const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
/** Instructions, continuation lines joined, comments dropped. */
const lines = text
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'));
const stages = lines.reduce<string[][]>(
  (acc, l) => (l.startsWith('FROM ') ? [...acc, [l]] : (acc.at(-1)?.push(l), acc)),
  [],
);
const final = stages.at(-1)!;
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };

describe('Dockerfile', () => {
  it('is multi-stage, and the final stage holds only the installed package (nothing copied from the build context)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(final.filter((l) => l.startsWith('COPY '))).toEqual(['COPY --from=deps /app ./']);
  });

  it('installs production dependencies only, from the lockfile', () => {
    expect(lines.some((l) => /npm ci --omit=dev\b/.test(l))).toBe(true);
  });

  it('builds the package with npm pack from every path package.json "files" ships', () => {
    expect(lines.some((l) => /npm pack\b/.test(l))).toBe(true);
    for (const path of pkg.files.filter((f) => !f.startsWith('!') && f !== 'dist')) {
      expect(
        lines.some((l) => l.startsWith('COPY ') && l.includes(` ${path}`)),
        path,
      ).toBe(true);
    }
  });

  it('runs as a non-root user, with the data directory as a volume', () => {
    const user = final.find((l) => l.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER (root|0)\b/);
    expect(final).toContain('VOLUME ["/data"]');
    expect(final.some((l) => /SCALE_BOT_DATA=\/data\b/.test(l))).toBe(true);
  });

  it('checks /healthz, stops on SIGTERM and starts serve', () => {
    expect(final.find((l) => l.startsWith('HEALTHCHECK '))).toMatch(/\/healthz/);
    expect(final).toContain('STOPSIGNAL SIGTERM');
    expect(final.slice(-2)).toEqual(['ENTRYPOINT ["node", "/app/bin/scale-bot.js"]', 'CMD ["serve"]']);
  });

  it('documents the same SIGTERM grace period as the README and the packed-install smoke test check', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const smoke = readFileSync(join(REPO_ROOT, 'test', 'pack', 'smoke.mjs'), 'utf8');
    expect(text).toMatch(/within 30 s/);
    expect(readme).toMatch(/exits 0 within 30 s/);
    expect(smoke).toMatch(/GRACE_MS = 30_000;/);
  });
});
