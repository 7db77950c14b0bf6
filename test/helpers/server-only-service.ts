import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach } from 'vitest';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import { startService, type RunningService } from '../../src/service/service.js';
import type { ServiceSettings } from '../../src/service/settings.js';
import { exampleConfig } from './config.js';

/**
 * The service's server without a worker, against a fresh fake GitLab with the example
 * configuration, for tests of what the service sets up. Each test's service and fake are stopped,
 * and its data directory removed, after it.
 */
export function useServerOnlyService(tempPrefix: string): {
  start: (settings: (fake: FakeGitLab, dataDir: string) => ServiceSettings) => Promise<RunningService>;
} {
  let fake: FakeGitLab | null = null;
  let service: RunningService | null = null;
  let dataDir: string | null = null;
  afterEach(async () => {
    await service?.stop(500);
    service = null;
    await fake?.stop();
    fake = null;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = null;
  });
  return {
    start: async (settings) => {
      fake = await startFakeGitLab({ labels: [] });
      dataDir = mkdtempSync(join(tmpdir(), tempPrefix));
      service = await startService(settings(fake, dataDir), exampleConfig(), {
        server: true,
        worker: false,
        logger: pino({ level: 'silent' }),
      });
      return service;
    },
  };
}
