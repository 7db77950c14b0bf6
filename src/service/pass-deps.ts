import type { Logger } from 'pino';
import { ConfigSource } from '../config/config-source.js';
import type { Config } from '../domain/config.js';
import { AccountIndex } from '../gitlab/account-index.js';
import { GitLabClient } from '../gitlab/client.js';
import type { Pacer } from '../gitlab/pacing.js';
import { createRequester, type Requester } from '../gitlab/requester.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { renderNote } from '../render/notes.js';
import type { ProcessDeps } from '../worker/process-issue.js';
import { RoutingState, type RoutingFactory, type RoutingMemory } from '../worker/routing-state.js';
import { BotIdentity } from './bot-identity.js';
import type { ServiceSettings } from './settings.js';

/** How long the routing state read from GitLab is trusted before it is read again (the passes' own records keep it current meanwhile). */
const ROUTING_STATE_MAX_AGE_MS = 15 * 60_000;

/** What a pass over an issue needs, and the parts behind it that the service also uses. */
export interface PassDeps {
  processDeps: ProcessDeps;
  client: GitLabClient;
  requester: Requester;
  /** The configuration in use: fixed (a local file) or read from the project's repository. */
  configSource: ConfigSource;
  routing: RoutingMemory;
  identity: BotIdentity;
  logger: Logger;
  /** Stops the requester's timers; passes still running see their calls refused. */
  stop: () => Promise<void>;
}

/** The configuration to start on: `'repository'` reads it from the project (and follows its changes). */
function openConfig(config: Config | 'repository', client: GitLabClient, logger: Logger): Promise<ConfigSource> {
  if (config !== 'repository') return Promise.resolve(ConfigSource.fixed(config));
  return ConfigSource.fromRepository(client, logger.child({ component: 'config' }));
}

/**
 * The one place a pass's dependencies are built: `serve` and `worker` (through startService),
 * `replay` and `reconcile` alike. Reads the configuration (from the project unless a local file
 * is given: a GitLab error here is thrown) and asks GitLab who the bot is; that failing is only
 * logged, since the service keeps trying (readiness says so) and the first pass asks again.
 */
export async function createPassDeps(
  settings: ServiceSettings,
  config: Config | 'repository',
  options: { logger: Logger; metrics?: Metrics; pacer?: Pacer; routing?: RoutingFactory },
): Promise<PassDeps> {
  const { logger } = options;
  const metrics = options.metrics ?? createMetrics();
  const requester = createRequester(settings.requester, logger.child({ component: 'gitlab' }), metrics, options.pacer);
  const client = new GitLabClient(
    { url: settings.gitlabUrl, token: settings.gitlabToken, project: settings.project },
    requester,
  );
  let configSource: ConfigSource;
  try {
    configSource = await openConfig(config, client, logger);
  } catch (err) {
    await requester.stop();
    throw err;
  }
  const identity = new BotIdentity(client, settings.project, () => configSource.config.bot.username, logger);
  try {
    await identity.learn();
  } catch (err) {
    logger.error({ reason: identity.unreachable(err) }, 'GitLab not usable at start; will keep trying');
  }
  // This process's memory unless the replicas share one (Redis).
  const routingOf: RoutingFactory = options.routing ?? ((...args) => new RoutingState(...args));
  const routing = routingOf(client, () => configSource.config, { maxAgeMs: ROUTING_STATE_MAX_AGE_MS, now: Date.now });
  const processDeps: ProcessDeps = {
    client,
    get config() {
      return configSource.config;
    },
    routing,
    accounts: new AccountIndex(client, () => new Date()),
    botUsername: () => identity.username,
    render: renderNote,
    now: () => new Date(),
    dryRun: settings.dryRun,
    crm: settings.crm,
  };
  return { processDeps, client, requester, configSource, routing, identity, logger, stop: () => requester.stop() };
}
