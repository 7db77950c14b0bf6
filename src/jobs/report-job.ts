import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../domain/config.js';
import { buildReport, type Report } from '../domain/report.js';
import type { Period } from '../domain/report-period.js';
import type { GitLabClient } from '../gitlab/client.js';
import { renderReport } from '../render/report.js';
import { createOnce } from './create-once.js';
import { loadRequests } from './load-requests.js';
import type { Progress } from './progress.js';

export interface ReportJobOptions {
  period: Period;
  /** Where report.md, report.json and report.csv go (null: not written). */
  outDir: string | null;
  /** Create or update the period's report issue. */
  post: boolean;
  dryRun: boolean;
  now: Date;
}

export interface ReportJobResult {
  report: Report;
  markdown: string;
  files: string[];
  /** What posting did (or would do, on a dry run); null when not asked to post. */
  posted: {
    action: 'created' | 'updated' | 'unchanged' | 'would create' | 'would update';
    title: string;
    url: string | null;
  } | null;
}

/**
 * The programme report: every request touched since the period began, plus every open one, read
 * from GitLab alone; then the pure report model, rendered.
 */
export async function runReport(
  client: GitLabClient,
  config: Config,
  options: ReportJobOptions,
  progress: Progress,
): Promise<ReportJobResult> {
  const { period, now } = options;
  // Two listings that barely overlap: what changed since the period began, and what is open but
  // untouched since (for loads, breaches and risk).
  const requests = await loadRequests(
    client,
    [{ updatedAfter: period.from }, { state: 'opened', updatedBefore: period.from }],
    {
      config,
      today: now.toISOString().slice(0, 10),
      progress,
    },
  );
  const report = buildReport(
    requests.map((r) => r.history),
    period,
    config,
    now,
  );
  const rendered = renderReport(report);
  const files: string[] = [];
  if (options.outDir) {
    await mkdir(options.outDir, { recursive: true });
    for (const [name, text] of [
      ['report.md', rendered.markdown],
      ['report.json', rendered.json],
      ['report.csv', rendered.csv],
    ] as const) {
      // Written whole or not at all: a killed job leaves the previous file, never half of one.
      const path = join(options.outDir, name);
      await writeFile(`${path}.tmp`, text);
      await rename(`${path}.tmp`, path);
      files.push(path);
    }
  }
  const posted = options.post ? await postReport(client, config, period, rendered.markdown, options.dryRun) : null;
  return { report, markdown: rendered.markdown, files, posted };
}

async function postReport(
  client: GitLabClient,
  config: Config,
  period: Period,
  markdown: string,
  dryRun: boolean,
): Promise<NonNullable<ReportJobResult['posted']>> {
  const title = config.report.title.replace('{period}', period.label);
  const existing = await client.findOwnIssue(title, config.labels.operations);
  if (existing) {
    // GitLab keeps a description right-trimmed (its quick-action pass `rstrip`s it, lib/gitlab/quick_actions/extractor.rb).
    if ((existing.description ?? '').trimEnd() === markdown.trimEnd())
      return { action: 'unchanged', title, url: existing.web_url };
    if (dryRun) return { action: 'would update', title, url: existing.web_url };
    await client.editIssueDescription(existing.iid, markdown);
    return { action: 'updated', title, url: existing.web_url };
  }
  if (dryRun) return { action: 'would create', title, url: null };
  const created = await createOnce(
    () => client.findOwnIssue(title, config.labels.operations),
    () => client.createIssue(title, markdown, [config.labels.operations]),
  );
  return { action: 'created', title, url: created.web_url };
}
