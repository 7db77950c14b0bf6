import type { Command } from 'commander';
import { ConfigSource } from '../config/config-source.js';
import { ConfigError } from '../config/load-config.js';
import type { Config } from '../domain/config.js';
import { GitLabHttpError } from '../gitlab/errors.js';
import { openGitLab, type GitLabSession } from '../jobs/gitlab-session.js';
import { createLogger } from '../service/logger.js';
import { CliError, EXIT, type CliIO } from './io.js';
import { settingsOrExit } from './settings.js';
import type { Logger } from 'pino';

/** The environment the jobs (`report`, `remind`, `simulate`) read, for their `--help`. */
export const JOB_ENVIRONMENT =
  "\nEnvironment: GITLAB_URL, GITLAB_TOKEN (the bot user's token, api scope), GITLAB_PROJECT (id or group/project), " +
  "optional SCALE_BOT_CONFIG (a local configuration file instead of .gitlab/scale-bot.yml on the project's default branch), LOG_LEVEL (default info; logs go to stderr), GITLAB_REQUESTS_PER_MINUTE (2000), GITLAB_NOTES_PER_MINUTE (60), GITLAB_SEARCHES_PER_MINUTE (30). " +
  "Reads GitLab only, never the service's data directory, so it runs the same from a fresh CI job.";

/**
 * A job's connection to GitLab and, with `withConfig`, the configuration it runs on (the
 * project's, unless a local file is given); `simulate` reads its two configurations itself.
 */
export async function connectJob(
  program: Command,
  io: CliIO,
  withConfig: boolean,
): Promise<{ config: Config | 'repository'; logger: Logger; gitlab: GitLabSession }> {
  const { settings, config } = settingsOrExit(program, io, { webhook: false });
  const logger = createLogger(io.env.LOG_LEVEL || 'info', 2);
  try {
    const gitlab = await openGitLab(settings, logger);
    return {
      config:
        withConfig && config === 'repository'
          ? (await ConfigSource.fromRepository(gitlab.client, logger)).config
          : config,
      logger,
      gitlab,
    };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (err instanceof GitLabHttpError && err.status === 401)
      throw new CliError(`GitLab at ${settings.gitlabUrl} refused the token (401): check GITLAB_TOKEN`, EXIT.problems);
    throw new CliError(`cannot reach GitLab at ${settings.gitlabUrl}: ${(err as Error).message}`, EXIT.problems);
  }
}

/** A job's connection and the configuration it runs on. */
export async function jobSession(
  program: Command,
  io: CliIO,
): Promise<{ config: Config; logger: Logger; gitlab: GitLabSession }> {
  const { config, ...rest } = await connectJob(program, io, true);
  if (config === 'repository') throw new Error('unreachable: the configuration was read above');
  return { config, ...rest };
}

/** A job that fails part-way (GitLab down past every retry, say) ends with its reason, exit 1. */
export const jobFailed =
  (job: string) =>
  (err: unknown): never => {
    if (err instanceof CliError) throw err;
    throw new CliError(`${job} failed: ${(err as Error).message}`, EXIT.problems);
  };
