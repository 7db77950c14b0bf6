import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../domain/config.js';
import { FORM_LOCK_FILE } from '../templates/form-lock.js';
import { checkIssueTemplates, writeIssueTemplates } from '../templates/issue-templates.js';
import { loadCliConfig } from './load.js';
import { EXIT, type CliIO } from './io.js';

/** Templates live next to the configuration: `.gitlab/scale-bot.yml` → `.gitlab/issue_templates/`. */
function templatesDir(option: string | undefined, configFile: string, io: CliIO): string {
  return option ? resolve(io.cwd, option) : join(dirname(configFile), 'issue_templates');
}

/** Prints each drifted file with its difference and what to do; the exit code. */
function checkTemplates(io: CliIO, config: Config, dir: string): number {
  const drift = checkIssueTemplates(config, dir);
  if (drift.length === 0) {
    io.stdout(`templates up to date (${config.forms.length} forms in ${relative(io.cwd, dir) || dir})\n`);
    return EXIT.ok;
  }
  for (const d of drift) io.stdout(`${d.status}: ${d.fileName}\n${d.diff}\n`);
  const edited = drift.filter((d) => d.status === 'edited').length;
  const stale = drift.length - edited;
  if (stale > 0)
    io.stderr(`${stale} template file(s) out of date: run \`scale-bot templates generate\` and commit the result\n`);
  if (edited > 0)
    io.stderr(
      `${edited} released form version(s) edited in place: restore them and add each change as a new version\n`,
    );
  return EXIT.problems;
}

/** The forms as `templates describe` shows them: ids, versions (current first), fields, types and options. */
function formsOf(config: Config) {
  return config.forms.map((f) => ({
    id: f.id,
    title: f.title,
    segment: f.segment,
    region: f.region,
    versions: f.versions.map((v) => ({
      version: v.version,
      fields: v.fields.map((x) => ({
        id: x.id,
        label: x.label,
        type: x.type,
        required: x.required,
        ...(x.options.length > 0 ? { options: x.options } : {}),
      })),
    })),
  }));
}

function printForms(io: CliIO, forms: ReturnType<typeof formsOf>): void {
  for (const f of forms) {
    io.stdout(`${f.id} — ${f.title} (segment ${f.segment}, region ${f.region})\n`);
    for (const v of f.versions) {
      io.stdout(`  version ${v.version}${v === f.versions[0] ? ' (current)' : ''}\n`);
      for (const x of v.fields) {
        const opts = 'options' in x && x.options ? `: ${x.options.map((o) => o.value).join(' | ')}` : '';
        io.stdout(
          `    ${x.id.padEnd(28)} ${x.type.padEnd(11)} ${x.required ? 'required' : 'optional'}  "${x.label}"${opts}\n`,
        );
      }
    }
  }
}

export function registerTemplatesCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const templates = program
    .command('templates')
    .description('generate, check and describe the GitLab issue templates made from the forms');

  templates
    .command('generate')
    .description(
      'write .gitlab/issue_templates/scale_engagement_request_<form>.md for every form and the lock of released versions ' +
        `(${FORM_LOCK_FILE}); delete the templates of forms no longer configured`,
    )
    .option('--dir <dir>', 'where to write the templates (default: issue_templates/ next to the config file)')
    .action((opts: { dir?: string }) => {
      const { config, file } = loadCliConfig(program, io);
      const dir = templatesDir(opts.dir, file, io);
      const { written, deleted } = writeIssueTemplates(config, dir);
      for (const name of written) io.stdout(`wrote ${relative(io.cwd, join(dir, name)) || name}\n`);
      for (const name of deleted)
        io.stdout(`deleted ${relative(io.cwd, join(dir, name)) || name} (no such form any more)\n`);
      setExit(EXIT.ok);
    });

  templates
    .command('check')
    .description(
      'exit 1 and show the difference when a committed template or the lock is stale, missing or orphaned, ' +
        'or when a released form version was edited in place instead of added as a new version',
    )
    .option('--dir <dir>', 'where the committed templates are (default: issue_templates/ next to the config file)')
    .action((opts: { dir?: string }) => {
      const { config, file } = loadCliConfig(program, io);
      setExit(checkTemplates(io, config, templatesDir(opts.dir, file, io)));
    });

  templates
    .command('describe')
    .description('print the forms: ids, versions, fields, types and options')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const forms = formsOf(loadCliConfig(program, io).config);
      if (opts.json) io.stdout(`${JSON.stringify({ forms }, null, 2)}\n`);
      else printForms(io, forms);
      setExit(EXIT.ok);
    });
}
