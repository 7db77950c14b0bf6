import type { Command } from 'commander';
import { CliError, EXIT, type CliIO } from './io.js';
import { loadCliConfig } from './load.js';
import { untilSignal } from './service-start.js';

export function registerDemoCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description(
      'run the real server and worker against an embedded fake GitLab on 127.0.0.1: file sample requests of every form ' +
        '(valid, missing fields, not qualified, public sector, edited afterwards) and show what the bot did (from a source checkout; the package leaves it out)',
    )
    .option(
      '--open',
      'then keep running with the status page, signed in as the demo manager through the fake GitLab, until Ctrl-C',
    )
    .action(async (opts: { open?: boolean }) => {
      const { config } = loadCliConfig(program, io);
      const { formatDemoTable, runDemo } = await loadDemo();
      const result = await runDemo(
        config,
        (line) =>
          io.stdout(`${line}
`),
        { open: Boolean(opts.open) },
      );
      io.stdout(`\n${formatDemoTable(result.rows)}\n\n`);
      io.stdout(
        `${result.rows.length} requests, ${result.webhooks} webhooks, ${result.apiCalls} GitLab API calls by the bot, ` +
          `${result.failedJobs} failed jobs, ${result.violations.length} unsafe texts, in ${(result.ms / 1000).toFixed(1)} s\n`,
      );
      for (const v of result.violations) io.stderr(`unsafe: ${v}\n`);
      if (result.open) {
        io.stdout(
          `\nStatus page: ${result.open.url} (signs you in as ${result.open.manager}, the demo manager). Ctrl-C stops the demo.\n`,
        );
        await untilSignal();
        await result.open.stop();
      }
      setExit(result.violations.length > 0 || result.failedJobs > 0 ? EXIT.problems : EXIT.ok);
    });
}

/**
 * The demo runs against the test-only fake GitLab, so it is loaded only when asked for: the
 * service and the jobs never load the fake, and the published package leaves both out.
 */
async function loadDemo(): Promise<typeof import('../demo/demo.js')> {
  try {
    return await import('../demo/demo.js');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new CliError(
      'the demo runs from a source checkout (npm ci && npm run demo): the installed package leaves out the fake GitLab it needs',
      EXIT.problems,
    );
  }
}
