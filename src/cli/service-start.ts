import type { Logger } from 'pino';
import type { Config } from '../domain/config.js';
import { GitLabHttpError } from '../gitlab/errors.js';
import { InboxRefusedError } from '../queue/inbox-identity.js';
import { InstanceLockedError } from '../service/instance-lock.js';
import { createLogger } from '../service/logger.js';
// The service's modules are loaded by the commands that run it, not by every command at start.
import type { PassDeps } from '../service/pass-deps.js';
import type { RedisShared } from '../service/redis-mode.js';
import type { RunningService, ServiceOptions } from '../service/service.js';
import type { ServiceSettings } from '../service/settings.js';
import { CliError, EXIT, type CliIO } from './io.js';

/** The environment the service commands read, for their `--help`. */
export const SERVICE_ENVIRONMENT =
  '\nEnvironment: GITLAB_URL, GITLAB_TOKEN, GITLAB_WEBHOOK_SECRET, GITLAB_PROJECT (id or group/project), ' +
  "optional GITLAB_WEBHOOK_SIGNING_KEY (the hook's signing token; enough without the secret token), SCALE_BOT_CONFIG (a local configuration file instead of .gitlab/scale-bot.yml on the project's default branch, which is followed on every push), SCALE_BOT_DATA (the webhook inbox; default ./data; one serve per directory), HOST, PORT (default 8080), " +
  'DRY_RUN=1, LOG_LEVEL, GITLAB_REQUESTS_PER_MINUTE (2000), GITLAB_NOTES_PER_MINUTE (60), GITLAB_SEARCHES_PER_MINUTE (30), WORKER_CONCURRENCY (16), optional SCALE_BOT_CRM_URL + SCALE_BOT_CRM_TOKEN (CRM sink for CTA records), optional SCALE_BOT_OAUTH_APP_ID + SCALE_BOT_OAUTH_SECRET + SCALE_BOT_PUBLIC_URL + SCALE_BOT_SESSION_SECRET (the status page at /, signed in with GitLab), ' +
  'SCALE_BOT_DURABILITY (process: an acknowledged delivery survives a killed process, the default; power: also a power cut, slower), ' +
  "SCALE_BOT_QUEUE (sqlite, the default, or redis: replicas share the inbox, GitLab pacing and routing memory in Redis at REDIS_URL), with SCALE_BOT_REDIS_PREFIX (scale-bot), SCALE_BOT_RECONCILE_MINUTES (60; 0: off), SCALE_BOT_REDIS_LOCK_SECONDS (30, at least 5: how long a dead replica's passes wait before another takes them) and SCALE_BOT_QUEUE_DASHBOARD=on for the read-only queue dashboard at /admin/queues behind the status page sign-in).";

export const FRESH_INBOX = [
  '--fresh-inbox',
  'start with an empty inbox, setting aside (never deleting) the one in the data directory, whatever it is; only when that inbox is lost or unwanted',
] as const;

/**
 * Resolves on SIGTERM/SIGINT; the caller then shuts down gracefully. Until then it keeps the
 * process alive: the worker's and the store's timers do not (they are unref'd so that tests and
 * one-shot commands can exit), and `scale-bot worker` has no server socket to do it.
 */
export function untilSignal(): Promise<string> {
  return new Promise((resolveSignal) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    const on = (signal: string) => () => {
      clearInterval(keepAlive);
      resolveSignal(signal);
    };
    process.once('SIGTERM', on('SIGTERM'));
    process.once('SIGINT', on('SIGINT'));
  });
}

/**
 * What stops the service or a pass from starting, worded for the command line: a data directory
 * another process holds (exit 2), a project configuration GitLab could not give (exit 1); an
 * invalid configuration is a ConfigError, listed problem by problem (exit 2).
 */
function explainStartFailure(err: unknown): never {
  if (err instanceof InstanceLockedError) throw new CliError(err.message, EXIT.usage);
  if (err instanceof InboxRefusedError) throw new CliError(`cannot start: ${err.message}`, EXIT.usage);
  if (err instanceof GitLabHttpError)
    throw new CliError(`cannot read the configuration from the project in GitLab: ${err.message}`, EXIT.problems);
  throw err;
}

/** `serve` and `worker`: the long-running service. */
export async function startOrExplain(
  settings: ServiceSettings,
  config: Config | 'repository',
  options: ServiceOptions,
): Promise<RunningService> {
  const { startService } = await import('../service/service.js');
  return startService(settings, config, options).catch(explainStartFailure);
}

/**
 * `replay` and `reconcile`: what one pass needs, without the data directory; logs go to stderr,
 * results to stdout. With SCALE_BOT_QUEUE=redis they pace and route through the replicas' Redis,
 * so a one-off pass beside running replicas neither exceeds GitLab's limits nor routes on its own.
 */
export async function passDepsOrExplain(
  settings: ServiceSettings,
  config: Config | 'repository',
  io: CliIO,
  dryRun: boolean | undefined,
): Promise<PassDeps> {
  const logger = createLogger(io.env.LOG_LEVEL || 'warn', 2);
  const shared = settings.queue.kind === 'redis' ? await sharedWithReplicas(settings.queue, settings, logger) : null;
  try {
    const { createPassDeps } = await import('../service/pass-deps.js');
    const pass = await createPassDeps({ ...settings, dryRun: settings.dryRun || Boolean(dryRun) }, config, {
      logger,
      pacer: shared?.pacer,
      routing: shared?.routing,
    });
    if (!shared) return pass;
    return { ...pass, stop: () => pass.stop().finally(() => shared.connection.disconnect()) };
  } catch (err) {
    shared?.connection.disconnect();
    return explainStartFailure(err);
  }
}

async function sharedWithReplicas(
  queue: Extract<ServiceSettings['queue'], { kind: 'redis' }>,
  settings: ServiceSettings,
  logger: Logger,
): Promise<RedisShared> {
  const { openRedisShared } = await import('../service/redis-mode.js');
  try {
    return await openRedisShared(queue, settings.requester, (err) => logger.error({ err: err.message }, 'redis error'));
  } catch (err) {
    throw new CliError(`cannot reach Redis (SCALE_BOT_QUEUE=redis): ${(err as Error).message}`, EXIT.problems);
  }
}

/** Runs the service until SIGTERM/SIGINT, then stops it gracefully. */
export async function serveUntilSignal(service: RunningService, setExit: (code: number) => void): Promise<void> {
  const signal = await untilSignal();
  service.logger.info({ signal }, 'shutting down');
  await service.stop();
  setExit(EXIT.ok);
}
