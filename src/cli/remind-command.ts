import type { Command } from 'commander';
import { createProgress } from '../jobs/progress.js';
import { runRemind, type RemindJobResult } from '../jobs/remind-job.js';
import { EXIT, type CliIO } from './io.js';
import { jobFailed, JOB_ENVIRONMENT, jobSession } from './job-session.js';

function printResult(io: CliIO, result: RemindJobResult, dryRun: boolean): void {
  const verb = dryRun ? 'would remind' : 'reminded';
  for (const m of result.plan.messages) {
    io.stdout(`${verb} @${m.username}: ${m.items.map((i) => `#${i.iid} ${i.kind}`).join(', ')}\n`);
  }
  for (const h of result.plan.held)
    io.stdout(
      `held for @${h.username} until ${h.until} (quiet time): ${h.items.map((i) => `#${i.iid} ${i.kind}`).join(', ')}\n`,
    );
  for (const w of result.waiting) {
    const what =
      w.action === 'remind'
        ? `${dryRun ? 'would remind' : 'reminded'} the author of #${w.iid}`
        : `${dryRun ? 'would close' : 'closed'} #${w.iid}`;
    io.stdout(`${what}: waiting on @${w.author} since ${w.since}\n`);
  }
  io.stdout(
    `${result.plan.messages.length} person(s) ${verb}, ${result.plan.held.length} held, ${result.plan.alreadySent} reminder(s) already sent earlier` +
      `${result.issueUrl ? ` — ${result.issueUrl}` : ''}\n`,
  );
}

export function registerRemindCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('remind')
    .description(
      'SLA reminders: one note per person on the reminders issue, each breach reminded once, never in quiet hours; requests waiting on their author too long are reminded on the request, then closed',
    )
    .option('--dry-run', 'list what would be sent or closed; write nothing')
    .addHelpText('after', JOB_ENVIRONMENT)
    .action(async (opts: { dryRun?: boolean }) => {
      const { config, logger, gitlab } = await jobSession(program, io);
      try {
        const result = await runRemind(
          gitlab.client,
          config,
          { dryRun: Boolean(opts.dryRun), now: io.now(), botUsername: gitlab.botUsername },
          createProgress('remind', io.terminal, logger),
        ).catch(jobFailed('remind'));
        printResult(io, result, Boolean(opts.dryRun));
      } finally {
        await gitlab.stop();
      }
      setExit(EXIT.ok);
    });
}
