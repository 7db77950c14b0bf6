import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isHandledEvent, isOtherWorkItem, parseWebhook, type WebhookEvent } from '../gitlab/webhook-schemas.js';
import type { ServiceSettings } from '../service/settings.js';
import { processIssue, type PassResult } from '../worker/process-issue.js';
import { CliError, EXIT, type CliIO } from './io.js';
import { passDepsOrExplain, SERVICE_ENVIRONMENT } from './service-start.js';
import { settingsOrExit } from './settings.js';

function readJson(io: CliIO, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      `${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (err as Error).message})`}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** The saved payload, checked as the webhook route checks a delivery: an issue's Issue Hook or Note Hook. */
function readPayload(io: CliIO, file: string, eventOption: string | undefined): { hook: WebhookEvent; iid: number } {
  const json = readJson(io, file);
  if (isOtherWorkItem(json))
    throw new CliError(`${file}: a work item that is not an issue (task, epic, …); nothing to replay`, EXIT.problems);
  const kind = (json as { object_kind?: unknown } | null)?.object_kind;
  const event = eventOption ?? (kind === 'issue' ? 'Issue Hook' : kind === 'note' ? 'Note Hook' : '');
  if (!isHandledEvent(event))
    throw new CliError(`${file}: not an Issue Hook or Note Hook payload (object_kind ${JSON.stringify(kind)})`);
  const parsed = parseWebhook(event, json);
  if (!parsed.ok) throw new CliError(`${file}: does not match the ${event} schema:\n  ${parsed.problems.join('\n  ')}`);
  const { iid } = parsed.value;
  if (iid === null) throw new CliError(`${file}: the event is not about an issue; nothing to replay`, EXIT.problems);
  return { hook: parsed.value, iid };
}

/** A payload from another project than GITLAB_PROJECT is refused: its issue number means another issue here. */
function checkProject(file: string, hook: WebhookEvent, settings: ServiceSettings): void {
  const project = hook.body.project;
  const sameProject =
    typeof settings.project === 'number'
      ? project.id === settings.project
      : project.path_with_namespace?.toLowerCase() === settings.project.toLowerCase() ||
        project.path_with_namespace === undefined;
  if (!sameProject) {
    throw new CliError(
      `${file}: the payload is from project ${project.path_with_namespace ?? project.id}, not GITLAB_PROJECT=${settings.project}`,
    );
  }
}

function printResult(io: CliIO, iid: number, result: PassResult): void {
  io.stdout(`issue ${iid}: ${result.outcome}\n`);
  if (result.plan) {
    io.stdout(`plan:\n${result.plan.summary.map((s) => `  ${s}`).join('\n')}\n`);
    io.stdout(`  labels +[${result.plan.labels.add.join(', ')}] -[${result.plan.labels.remove.join(', ')}]\n`);
    io.stdout(`  assignees ${result.plan.assignees ? result.plan.assignees.join(', ') : '(unchanged)'}\n`);
    for (const n of result.plan.notes) io.stdout(`  note ${n.action} ${n.key}\n`);
    for (const n of result.plan.deleteNotes) io.stdout(`  note delete ${n.key} (#${n.noteId}, a later copy)\n`);
  }
  io.stdout(
    result.applied
      ? `done:\n${result.applied.done.map((d) => `  ${d}`).join('\n') || '  (nothing to write)'}\n`
      : 'done: nothing (dry run)\n',
  );
}

export function registerReplayCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('replay')
    .description('run one saved webhook payload through the same path as the worker; print the plan and what was done')
    .argument('<payload>', 'a JSON file holding a GitLab Issue Hook or Note Hook body')
    .option('--dry-run', 'decide and print the plan; write nothing to GitLab')
    .option('--event <name>', 'the X-Gitlab-Event of the payload (default: from object_kind)')
    .addHelpText('after', SERVICE_ENVIRONMENT)
    .action(async (file: string, opts: { dryRun?: boolean; event?: string }) => {
      const payload = readPayload(io, file, opts.event);
      const { settings, config } = settingsOrExit(program, io, { webhook: false });
      checkProject(file, payload.hook, settings);
      const pass = await passDepsOrExplain(settings, config, io, opts.dryRun);
      try {
        printResult(io, payload.iid, await processIssue(pass.processDeps, payload.iid, pass.logger));
      } finally {
        await pass.stop();
      }
      setExit(EXIT.ok);
    });
}
