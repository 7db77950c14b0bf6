import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfig, parseConfigText } from '../config/load-config.js';
import type { Config } from '../domain/config.js';
import { simulationMarkdown } from '../domain/decision-diff.js';
import type { GitLabClient } from '../gitlab/client.js';
import { upsertMergeRequestNote } from '../jobs/merge-request-note.js';
import { runSimulate } from '../jobs/simulate-job.js';
import { CliError, EXIT, type CliIO } from './io.js';
import { connectJob, jobFailed } from './job-session.js';

interface SimulateOpts {
  base?: string;
  head?: string;
  baseFile?: string;
  headFile?: string;
  since?: string;
  last?: string;
  format: string;
  out?: string;
  postToMr?: string;
}

/** The options checked together: the merge request to post to and how many closed requests to add. */
function checkOptions(opts: SimulateOpts): { mrIid: number | null; last: number | undefined } {
  if (opts.format !== 'md' && opts.format !== 'json')
    throw new CliError(`--format must be "md" or "json", not "${opts.format}"`);
  const mrIid = opts.postToMr === undefined ? null : Number(opts.postToMr);
  if (mrIid !== null && !(Number.isInteger(mrIid) && mrIid > 0))
    throw new CliError(`--post-to-mr must be a merge request iid, not "${opts.postToMr}"`);
  if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since)))
    throw new CliError(`--since must be an ISO 8601 date or time, not "${opts.since}"`);
  const last = opts.last === undefined ? undefined : Number(opts.last);
  if (last !== undefined && !(Number.isInteger(last) && last > 0))
    throw new CliError(`--last must be a number of requests (1 or more), not "${opts.last}"`);
  if (last !== undefined && opts.since !== undefined) throw new CliError('give --since or --last, not both');
  for (const side of ['base', 'head'] as const) {
    if ((opts[side] === undefined) === (opts[`${side}File`] === undefined))
      throw new CliError(`give --${side} <ref> or --${side}-file <file> (one of them)`);
  }
  return { mrIid, last };
}

/**
 * `simulate`: the effect of a configuration change on the requests in GitLab now. Exit 1 when the
 * change is breaking (open requests whose form version the head no longer reads as the base did);
 * an invalid configuration is a usage error (2), as for `config check`.
 */
export function registerSimulateCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('simulate')
    .description(
      'decide every open request (and those opened --since a date, or the --last N opened) under two configurations and list what would differ',
    )
    .option('--base <ref>', `branch, tag or commit whose ${DEFAULT_CONFIG_PATH} is the base`)
    .option('--head <ref>', `branch, tag or commit whose ${DEFAULT_CONFIG_PATH} is the change`)
    .option('--base-file <file>', 'a local configuration file as the base, instead of --base')
    .option('--head-file <file>', 'a local configuration file as the change, instead of --head')
    .option('--since <date>', 'also the requests opened since this date or time (ISO 8601), open or closed')
    .option('--last <n>', 'also the N requests opened most recently, open or closed (instead of --since)')
    .option('--format <format>', '"md" (a summary and one table row per changed request) or "json"', 'md')
    .option('--out <file>', 'also write the report to this file (a CI artifact)')
    .option(
      '--post-to-mr <iid>',
      'post the Markdown report as one note on this merge request, updated by later runs (the token needs the api scope)',
    )
    .addHelpText(
      'after',
      '\nOpen requests are always decided; --since or --last adds requests already closed (the newest ones, by when they were opened). Identical decisions are counted, not listed; breaking changes are listed first. Exit 1 when a change is breaking, 2 when a configuration is invalid.',
    )
    .action(async (opts: SimulateOpts) => {
      const { mrIid, last } = checkOptions(opts);
      const { gitlab } = await connectJob(program, io, false);
      try {
        const base = await sideConfig(gitlab.client, io, 'base', opts.base, opts.baseFile);
        const head = await sideConfig(gitlab.client, io, 'head', opts.head, opts.headFile);
        const now = io.now();
        const result = await runSimulate(gitlab.client, {
          base,
          head,
          now,
          botUsername: gitlab.botUsername,
          ...(opts.since ? { since: opts.since } : {}),
          ...(last !== undefined ? { last } : {}),
        }).catch(jobFailed('simulate'));
        const refs = { base: opts.base ?? opts.baseFile!, head: opts.head ?? opts.headFile! };
        const markdown = simulationMarkdown(result, refs);
        const report =
          opts.format === 'json'
            ? `${JSON.stringify({ ...refs, asOf: now.toISOString(), ...result }, null, 2)}\n`
            : markdown;
        io.stdout(report);
        if (opts.out) writeFileSync(resolve(io.cwd, opts.out), report);
        if (mrIid !== null) {
          const done = await upsertMergeRequestNote(
            gitlab.client,
            gitlab.botUsername,
            mrIid,
            `### What this configuration change would do\n\n${markdown}`,
          ).catch(jobFailed('posting the merge request note'));
          io.stderr(`merge request !${mrIid}: note ${done}\n`);
        }
        setExit(result.diffs.some((d) => d.breaking) ? EXIT.problems : EXIT.ok);
      } finally {
        await gitlab.stop();
      }
    });
}

/** One side's configuration: the file at a ref of the project's repository, or a local file. */
async function sideConfig(
  client: GitLabClient,
  io: CliIO,
  side: 'base' | 'head',
  ref: string | undefined,
  file: string | undefined,
): Promise<Config> {
  if (file !== undefined) return loadConfig(resolve(io.cwd, file));
  try {
    const found = await client.repositoryFile(DEFAULT_CONFIG_PATH, ref!);
    return parseConfigText(found.text, `${DEFAULT_CONFIG_PATH} at ${ref} (commit ${found.commitId.slice(0, 8)})`);
  } catch (err) {
    if ((err as { status?: number }).status === 404)
      throw new CliError(`${DEFAULT_CONFIG_PATH} not found at ${side} ref "${ref}"`, EXIT.usage);
    throw err;
  }
}
