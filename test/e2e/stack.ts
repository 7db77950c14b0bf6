import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach } from 'vitest';
import type { Config } from '../../src/domain/config.js';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import { settingsForFake } from '../../src/demo/demo.js';
import { startService, type RunningService } from '../../src/service/service.js';
import type { ServiceSettings } from '../../src/service/settings.js';

export const WEBHOOK_SECRET = 'e2e-webhook-secret';

/** Every scoped label the bot and the templates use, so quick actions on creation apply them. */
export function projectLabels(config: Config): string[] {
  const labels = new Set<string>();
  for (const form of config.forms) {
    labels.add(config.catalog.segmentLabel(form.segment));
    labels.add(config.catalog.regionLabel(form.region));
  }
  return [...labels];
}

export interface Stack {
  fake: FakeGitLab;
  service: RunningService;
  settings: ServiceSettings;
  /** Waits until every webhook was answered and the worker has nothing running or due. */
  drain: () => Promise<void>;
  stop: () => Promise<void>;
}

export function settingsFor(
  fake: FakeGitLab,
  dataDir: string,
  overrides: Partial<ServiceSettings> = {},
): ServiceSettings {
  return settingsForFake(fake, dataDir, {
    webhookSecret: WEBHOOK_SECRET,
    requester: {
      requestsPerMinute: 60_000,
      notesPerMinute: 60_000,
      searchesPerMinute: 30,
      retries: 3,
      timeoutMs: 1_000,
      minBackoffMs: 20,
      maxBackoffMs: 200,
    },
    ...overrides,
  });
}

/** The real server and worker against a fake GitLab, both on 127.0.0.1. */
/** `fromRepository`: the service reads its configuration from the fake's repository (as `serve` does without SCALE_BOT_CONFIG). */
export async function startStack(
  config: Config,
  options: {
    latencyMs?: number;
    settings?: Partial<ServiceSettings>;
    fromRepository?: boolean;
    configCheckMs?: number;
  } = {},
): Promise<Stack> {
  const fake = await startFakeGitLab({ labels: projectLabels(config), latencyMs: options.latencyMs ?? 0 });
  const dataDir = mkdtempSync(join(tmpdir(), 'scale-bot-e2e-'));
  const settings = settingsFor(fake, dataDir, options.settings);
  const service = await startService(settings, options.fromRepository ? 'repository' : config, {
    server: true,
    worker: true,
    logger: pino({ level: process.env.E2E_LOG ?? 'silent' }),
    coalesce: { quietMs: 30, maxWaitMs: 300 },
    workerOptions: { backoffMs: () => 50, idlePollMs: 20 },
    ...(options.configCheckMs ? { configCheckMs: options.configCheckMs } : {}),
  });
  fake.setWebhook({ url: `${service.url}/webhooks/gitlab`, token: WEBHOOK_SECRET });
  const drain = async () => {
    for (let i = 0; i < 3; i++) {
      await fake.settled();
      await service.worker!.idle();
    }
  };
  return {
    fake,
    service,
    settings,
    drain,
    stop: async () => {
      await service.stop(2_000);
      await fake.stop();
    },
  };
}

/**
 * After each test: the fake saw nothing GitLab would refuse, and the stack is stopped (also when
 * that check fails). `take` hands over the test's stack, if it started one, and forgets it.
 */
export function stopStackAfterEach(take: () => Stack | null): void {
  afterEach(async () => {
    const stack = take();
    if (!stack) return;
    try {
      stack.fake.assertNoViolations();
    } finally {
      await stack.stop();
    }
  });
}
