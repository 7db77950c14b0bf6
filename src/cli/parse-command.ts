import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { analyzeRequest, type RequestAnalysis } from '../domain/analyze.js';
import type { Config } from '../domain/config.js';
import type { Field } from '../domain/forms.js';
import { formatPercent, formatUsd } from '../domain/qualify.js';
import type { FieldValue } from '../domain/request.js';
import { CliError, EXIT, type CliIO } from './io.js';
import { loadCliConfig } from './load.js';

interface ParseOptions {
  author?: string;
  labels?: string;
  today?: string;
  json?: boolean;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function registerParseCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('parse')
    .description(
      'parse issue descriptions (files, or - for standard input): form, fields, problems, qualification and routing. ' +
        'Exit 1 when any request has problems or is not qualified.',
    )
    .argument('<files...>', 'Markdown files holding issue descriptions, or - to read standard input')
    .option('-a, --author <username>', 'who opened the issue (checked against the configured people)')
    .option('-l, --labels <labels>', 'comma-separated issue labels (used to recognise a form whose marker was deleted)')
    .option('--today <date>', 'evaluate date rules as of this day (YYYY-MM-DD; default: today)')
    .option('--json', 'print JSON (an array with one object per file)')
    .action(async (files: string[], opts: ParseOptions) => {
      if (opts.today !== undefined && !ISO_DATE.test(opts.today))
        throw new CliError(`--today must be a date like 2027-01-15, not "${opts.today}"`);
      const { config } = loadCliConfig(program, io);
      const today = opts.today ?? io.today();
      const author = opts.author ? opts.author.replace(/^@/, '') : null;
      const labels = (opts.labels ?? '')
        .split(',')
        .map((l) => l.trim())
        .filter((l) => l !== '');
      const results: Array<{ file: string; analysis: RequestAnalysis }> = [];
      for (const file of files) {
        const description = file === '-' ? await io.readStdin() : readDescription(resolve(io.cwd, file), file);
        results.push({ file, analysis: analyzeRequest({ description, author, labels }, config, today) });
      }
      if (opts.json) {
        io.stdout(
          `${JSON.stringify(
            results.map((r) => ({ file: r.file, ...r.analysis })),
            null,
            2,
          )}\n`,
        );
      } else {
        io.stdout(results.map((r) => formatAnalysis(r.file, r.analysis, config)).join('\n'));
      }
      const bad = results.some((r) => r.analysis.request.problems.length > 0 || !r.analysis.qualification.qualified);
      setExit(bad ? EXIT.problems : EXIT.ok);
    });
}

function readDescription(path: string, shown: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${shown}: no such file` : `${shown}: cannot read (${code ?? String(err)})`);
  }
}

/** A value as the template's reader would write it: dollars, percents, option labels. */
function show(field: Field, value: FieldValue | null): string {
  if (value === null) return '—';
  const label = (v: string) => field.options.find((o) => o.value === v)?.label ?? v;
  if (Array.isArray(value)) return value.map(label).join(', ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') {
    if (field.type === 'currency') return formatUsd(value);
    if (field.type === 'percent') return formatPercent(value);
    return value.toLocaleString('en-US');
  }
  if (field.type === 'select') return label(value);
  if (field.type === 'user') return `@${value}`;
  return value.includes('\n') ? `${value.split('\n')[0]} …` : value;
}

const MARK = { pass: '✓', fail: '✗', unknown: '?' } as const;

export function formatAnalysis(file: string, a: RequestAnalysis, config: Config): string {
  const out: string[] = [`== ${file}`];
  const { request, qualification: q, routing } = a;
  if (!request.form) {
    out.push('  Form: not recognised');
  } else {
    const f = request.form;
    out.push(`  Form: ${f.title} (${f.id} v${f.version}, recognised by ${f.detectedBy})`);
    const form = config.forms.find((x) => x.id === f.id);
    const fields = form?.versions.find((v) => v.version === f.version)?.fields ?? [];
    const width = Math.max(...fields.map((x) => x.label.length), 10);
    out.push('  Fields:');
    for (const field of fields)
      out.push(`    ${field.label.padEnd(width)}  ${show(field, request.fields[field.id] ?? null)}`);
  }
  if (request.problems.length === 0) out.push('  Problems: none');
  else {
    out.push(`  Problems (${request.problems.length}):`);
    for (const p of request.problems) out.push(`    - ${p.label ?? 'Description'}: ${p.message}`);
  }
  out.push(
    `  Qualification: ${q.status}, priority ${q.priority}${q.flags.length > 0 ? `, flags: ${q.flags.join(', ')}` : ''}`,
  );
  for (const r of q.rules) {
    out.push(`    ${MARK[r.verdict]} ${r.kind === 'gate' ? 'gate  ' : 'signal'} ${r.title} — ${r.detail}`);
  }
  if (routing === null) out.push('  Routing: not routed (request not recognised or not qualified)');
  else {
    out.push(`  Routing: ${routing.assignee ? `@${routing.assignee}` : 'nobody'} (${routing.via}) — ${routing.reason}`);
    for (const s of routing.skipped) out.push(`    skipped ${s.username}: ${s.detail}`);
  }
  return `${out.join('\n')}\n`;
}
