import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireInstanceLock, InstanceLockedError } from '../../src/service/instance-lock.js';

const BUILT = resolve(import.meta.dirname, '..', '..', 'dist', 'service', 'instance-lock.js');

describe('instance lock on the data directory', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const dataDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'instance-lock-'));
    dirs.push(d);
    return d;
  };

  it('refuses a second holder of a role with a message naming the directory, and allows it after release', () => {
    const dir = dataDir();
    const first = acquireInstanceLock(dir, 'server');
    expect(() => acquireInstanceLock(dir, 'server')).toThrow(InstanceLockedError);
    expect(() => acquireInstanceLock(dir, 'server')).toThrow(
      `another scale-bot webhook server (serve) is already running on the data directory ${dir}`,
    );
    // Another role on the same directory is another process's business (serve --no-worker + worker).
    const worker = acquireInstanceLock(dir, 'worker');
    first.release();
    acquireInstanceLock(dir, 'server').release();
    worker.release();
  });

  it('is held by another process until that process is killed with SIGKILL; then it is free, nothing stale left', async () => {
    const dir = dataDir();
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { acquireInstanceLock } = await import(${JSON.stringify(BUILT)}); acquireInstanceLock(${JSON.stringify(dir)}, 'worker'); console.log('held'); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await once(child.stdout, 'data');
      expect(() => acquireInstanceLock(dir, 'worker')).toThrow(InstanceLockedError);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    acquireInstanceLock(dir, 'worker').release();
  });
});
