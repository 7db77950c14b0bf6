import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { REPO_ROOT } from '../cli/run-cli.js';

type Job = {
  extends?: string;
  rules?: Array<{ if: string; when?: string; changes?: string[] }>;
  script?: string[];
  artifacts?: { paths?: string[]; reports?: { junit?: string } };
};
const ci = yaml.load(readFileSync(join(REPO_ROOT, '.gitlab-ci.yml'), 'utf8')) as Record<string, Job>;
const program = buildProgram(
  {
    stdout: () => undefined,
    stderr: () => undefined,
    readStdin: async () => '',
    env: {},
    cwd: REPO_ROOT,
    today: () => '2026-12-03',
    now: () => new Date(),
    terminal: null,
  },
  () => undefined,
);

/** The rules a job ends up with, following `extends`. */
function rulesOf(job: Job): Job['rules'] {
  return job.rules ?? (job.extends ? rulesOf(ci[job.extends]!) : undefined);
}

/** `npx scale-bot <command> [sub] --flags…` lines of a job, as command path and long options. */
function botCalls(job: Job): Array<{ path: string[]; flags: string[] }> {
  return (job.script ?? [])
    .filter((l) => l.startsWith('npx scale-bot '))
    .map((l) => {
      // Without a shell fallback (`|| status=$?`): only the call itself.
      const words = l
        .replace(/"[^"]*"/g, 'VALUE')
        .replace(/\s*\|\|.*$/, '')
        .split(/\s+/)
        .slice(2);
      const firstFlag = words.findIndex((w) => w.startsWith('-'));
      return {
        path: firstFlag === -1 ? words : words.slice(0, firstFlag),
        flags: words.filter((w) => w.startsWith('--')),
      };
    });
}

function command(path: string[]): Command | undefined {
  let c: Command | undefined = program;
  for (const name of path) c = c?.commands.find((x) => x.name() === name);
  return c;
}

describe('.gitlab-ci.yml', () => {
  it.each(['report', 'remind', 'reconcile'])(
    '%s runs on its schedule (SCALE_BOT_JOB) or by hand, and has a manual dry-run twin',
    (name) => {
      const rules = rulesOf(ci[name]!)!;
      expect(rules.map((r) => r.if)).toContain(`$CI_PIPELINE_SOURCE == "schedule" && $SCALE_BOT_JOB == "${name}"`);
      expect(rules.find((r) => r.if === '$CI_PIPELINE_SOURCE == "web"')?.when).toBe('manual');
      const dry = ci[`${name}:dry-run`]!;
      expect(rulesOf(dry)!.every((r) => r.when === 'manual')).toBe(true);
      expect(botCalls(dry).every((c) => c.flags.includes('--dry-run'))).toBe(true);
      expect(botCalls(ci[name]!).some((c) => c.flags.includes('--dry-run'))).toBe(false);
    },
  );

  it('keeps the report files and the JUnit results as artifacts', () => {
    expect(ci.report!.artifacts?.paths).toEqual(['report/']);
    expect(botCalls(ci.report!)[0]!.flags).toEqual(expect.arrayContaining(['--out', '--post']));
    expect(ci.test!.artifacts?.reports?.junit).toBe('junit.xml');
  });

  it('a merge request changing the configuration or templates gets the simulation as one note, the checks, and the report kept', () => {
    const job = ci['config-change']!;
    expect(job.rules).toEqual([
      {
        if: '$CI_PIPELINE_SOURCE == "merge_request_event"',
        changes: ['.gitlab/scale-bot.yml', '.gitlab/issue_templates/**/*'],
      },
    ]);
    const calls = botCalls(job);
    expect(calls.map((c) => c.path.join(' '))).toEqual(['config check', 'simulate', 'templates check']);
    expect(calls[1]!.flags).toEqual(['--base', '--head', '--post-to-mr', '--out']);
    // The simulation's exit (1: breaking) and the templates check decide the job, after the note is posted.
    expect(job.script!.at(-1)).toBe('exit $status');
    expect(job.artifacts?.paths).toEqual(['simulate.md']);
  });

  it('calls only commands and options the CLI has', () => {
    const calls = Object.values(ci).flatMap((job) => (typeof job === 'object' && job !== null ? botCalls(job) : []));
    expect(calls.length).toBeGreaterThanOrEqual(9);
    for (const call of calls) {
      const c = command(call.path);
      expect(c, `scale-bot ${call.path.join(' ')}`).toBeDefined();
      const known = c!.options.map((o) => o.long);
      for (const flag of call.flags) expect(known, `scale-bot ${call.path.join(' ')} ${flag}`).toContain(flag);
    }
  });
});
