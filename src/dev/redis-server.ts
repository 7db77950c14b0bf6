import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real `redis-server` (Debian's package) on a free loopback port with its own temporary
 * directory, for tests and benchmarks: never a shared or system instance. Not shipped (dist/dev
 * is left out of the package).
 */
export interface RedisServerProcess {
  url: string;
  port: number;
  /** SIGKILL: nothing flushed beyond what `appendfsync` already wrote. */
  kill(): Promise<void>;
  /** SIGTERM: Redis writes its AOF out and exits. */
  stop(): Promise<void>;
  /** Starts again on the same port and directory (after `kill` or `stop`), reloading the AOF. */
  start(): Promise<void>;
  /** Stops and removes the directory. */
  close(): Promise<void>;
}

export interface RedisServerOptions {
  /** Redis's `appendfsync`: `always` fsyncs every write before answering, `everysec` once a second. */
  appendfsync?: 'always' | 'everysec';
  /** Fixed port (default: a free one). */
  port?: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server not ready after 10 s:\n${output}`)), 10_000);
    const early = (code: number | null) =>
      fail(new Error(`redis-server exited with ${code} before it was ready:\n${output}`));
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.off('exit', early);
      reject(err);
    };
    child.once('error', (err) =>
      fail(new Error(`cannot run redis-server (apt-get install -y redis-server): ${err.message}`)),
    );
    child.once('exit', early);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!output.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.off('exit', early);
      child.stdout!.off('data', read);
      resolve();
    };
    child.stdout!.on('data', read);
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerProcess> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'scale-bot-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    options.appendfsync ?? 'everysec',
    '--logfile',
    '',
  ];
  let child: ChildProcess | null = null;
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', r));
  const start = async () => {
    const c = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child = c;
    await waitForReady(c);
    c.stdout!.resume();
  };
  const signal = async (sig: NodeJS.Signals) => {
    const c = child;
    child = null;
    if (!c) return;
    c.kill(sig);
    await exited(c);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
    start,
    async close() {
      await signal('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
