import { execFileSync } from 'node:child_process';

/** Debian's chromium (never a downloaded browser); CHROMIUM_PATH overrides. */
function findChromium(): string | null {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export const CHROMIUM_PATH = findChromium();

/**
 * Browser tests are skipped only on a machine without chromium and outside CI; in CI a missing
 * browser fails them. `what` names the tests in the warning.
 */
export function skipWithoutChromium(what: string): boolean {
  const skip = CHROMIUM_PATH === null && process.env.CI !== 'true';
  if (skip) console.warn(`${what} skipped: no chromium on PATH (apt-get install chromium, or set CHROMIUM_PATH)`);
  return skip;
}
