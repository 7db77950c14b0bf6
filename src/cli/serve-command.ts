import type { Command } from 'commander';
import type { CliIO } from './io.js';
import { FRESH_INBOX, SERVICE_ENVIRONMENT, serveUntilSignal, startOrExplain } from './service-start.js';
import { settingsOrExit } from './settings.js';

export function registerServeCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description(
      'run the webhook server (POST /webhooks/gitlab, /healthz, /readyz, /metrics, the status page at /) with the worker in the same process',
    )
    .option('--no-worker', 'only receive and queue deliveries; run `scale-bot worker` separately')
    .option(...FRESH_INBOX)
    .addHelpText('after', SERVICE_ENVIRONMENT)
    .action(async (opts: { worker: boolean; freshInbox?: boolean }) => {
      const { settings, config } = settingsOrExit(program, io, { webhook: true });
      const service = await startOrExplain(settings, config, {
        server: true,
        worker: opts.worker,
        freshInbox: Boolean(opts.freshInbox),
      });
      await serveUntilSignal(service, setExit);
    });
}
