import type { Command } from 'commander';
import { formatDemoTable, runDemo } from '../demo/demo.js';
import { EXIT, type CliIO } from './io.js';
import { loadCliConfig } from './load.js';

export function registerDemoCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description(
      'run the real server and worker against an embedded fake GitLab on 127.0.0.1: file sample requests of every form ' +
        '(valid, missing fields, not qualified, public sector, edited afterwards) and show what the bot did',
    )
    .action(async () => {
      const { config } = loadCliConfig(program, io);
      const result = await runDemo(config, (line) => io.stdout(`${line}\n`));
      io.stdout(`\n${formatDemoTable(result.rows)}\n\n`);
      io.stdout(
        `${result.rows.length} requests, ${result.webhooks} webhooks, ${result.apiCalls} GitLab API calls by the bot, ` +
          `${result.failedJobs} failed jobs, ${result.violations.length} unsafe texts, in ${(result.ms / 1000).toFixed(1)} s\n`,
      );
      for (const v of result.violations) io.stderr(`unsafe: ${v}\n`);
      setExit(result.violations.length > 0 || result.failedJobs > 0 ? EXIT.problems : EXIT.ok);
    });
}
