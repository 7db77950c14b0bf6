import type { Command } from 'commander';
import type { CliIO } from './io.js';
import { FRESH_INBOX, SERVICE_ENVIRONMENT, serveUntilSignal, startOrExplain } from './service-start.js';
import { settingsOrExit } from './settings.js';

export function registerWorkerCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('worker')
    .description(
      'run only the worker: process queued per-issue jobs from the data directory (beside one `serve --no-worker`)',
    )
    .option(...FRESH_INBOX)
    .addHelpText('after', SERVICE_ENVIRONMENT)
    .action(async (opts: { freshInbox?: boolean }) => {
      const { settings, config } = settingsOrExit(program, io, { webhook: false });
      const service = await startOrExplain(settings, config, {
        server: false,
        worker: true,
        freshInbox: Boolean(opts.freshInbox),
      });
      await serveUntilSignal(service, setExit);
    });
}
