import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest global setup: the whole run gets one temporary directory of its own, and every test (and
 * every process a test starts) creates its scratch files under it through `os.tmpdir()`, which
 * reads TMPDIR. The run removes it at the end, so running the suite leaves nothing behind even
 * when a test fails before its own clean-up.
 */
export default function setup(): () => void {
  const runDir = mkdtempSync(join(tmpdir(), 'scale-bot-test-run-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = runDir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(runDir, { recursive: true, force: true });
  };
}
