// `scale-bot simulate` at scale (issue #19): wall time and peak memory over a project holding N open
// requests, against the report's budget (10,000 requests in ≤ 10 s and ≤ 300 MB).
// Usage: npm run build && node bench/simulate.js [--sizes 1000,10000] [--runs 3] [--profile DIR]
// (--profile: each run of the CLI writes a CPU and a heap profile into DIR, for finding costs; its times are not measurements)
//
// The fake GitLab (no added latency) runs here, seeded with N open requests made from the four
// sample descriptions (customer and Salesforce id unique per request): Mid-Market and Enterprise ones
// assigned to a CSE, the SMB ones needs-info or not-qualified. `simulate` runs as the real CLI in a
// child process with two local configurations — the bundled one as base, and as head the same with
// a lower Mid-Market ceiling and the mm/amr pool switched to round-robin — so every request is
// decided twice and a known share changes. Peak RSS and CPU are the child's own (bench/report-rss.cjs).
// The requester's pace is lifted (GITLAB_REQUESTS_PER_MINUTE=6,000,000): what is measured is the
// bot's own cost, not GitLab's rate limit. Medians of `--runs` fresh children are reported.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startFakeGitLab } from '../dist/fake-gitlab/server.js';
import { runMeasuredCli } from './measured-cli.js';
import { median, SAMPLES, seededRequest } from './seed.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    runs: { type: 'string', default: '3' },
    profile: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);

const bundled = readFileSync(join(ROOT, '.gitlab', 'scale-bot.yml'), 'utf8');
const head = bundled
  .replace(
    'mm: { name: Mid-Market, arr: { min: 30000, max: 250000 } }',
    'mm: { name: Mid-Market, arr: { min: 30000, max: 150000 } }',
  )
  .replace('{ segment: mm, region: amr, strategy: least-loaded,', '{ segment: mm, region: amr, strategy: round-robin,');
if (head === bundled) throw new Error('the head configuration did not change: the bundled example moved');

function seed(i) {
  const { file, description, cse } = seededRequest(i);
  const createdAt = new Date(Date.UTC(2026, 10, 1) + i * 60_000);
  if (!cse)
    return {
      title: `Request ${i}`,
      description,
      author: 'jordan.ae',
      labels: [`engagement::${file.includes('missing') ? 'needs-info' : 'not-qualified'}`],
      createdAt,
      updatedAt: createdAt,
    };
  return {
    title: `Request ${i}`,
    description,
    author: 'alex.ae',
    assignees: [cse],
    labels: ['engagement::assigned'],
    createdAt,
    updatedAt: createdAt,
  };
}

async function runSimulate(fake, dir) {
  const run = await runMeasuredCli(
    fake,
    ['simulate', '--base-file', join(dir, 'base.yml'), '--head-file', join(dir, 'head.yml'), '--format', 'json'],
    values.profile ?? null,
  );
  return { ...run, result: JSON.parse(run.stdout) };
}

const dir = mkdtempSync(join(tmpdir(), 'bench-simulate-'));
writeFileSync(join(dir, 'base.yml'), bundled);
writeFileSync(join(dir, 'head.yml'), head);
console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (${cpus().length} cores)`,
);
try {
  for (const n of sizes) {
    const fake = await startFakeGitLab();
    fake.seedIssues(n, seed);
    const results = [];
    for (let r = 0; r < runs; r++) {
      const run = await runSimulate(fake, dir);
      if (run.result.total !== n) throw new Error(`simulate decided ${run.result.total} requests, seeded ${n}`);
      results.push(run);
    }
    await fake.stop();
    const { diffs, summary } = results[0].result;
    // Every Mid-Market request ($210k) is above the head's $150k ceiling; nothing else changes.
    const expected = Math.ceil(n / SAMPLES.length);
    if (diffs.length !== expected) throw new Error(`simulate listed ${diffs.length} changes, expected ${expected}`);
    const ms = median(results.map((x) => x.ms));
    const rss = median(results.map((x) => x.rssMb));
    console.log(
      `${String(n).padStart(6)} requests: wall ${(ms / 1000).toFixed(2)} s median (runs ${results.map((x) => (x.ms / 1000).toFixed(2)).join(', ')} s), ` +
        `peak RSS ${rss.toFixed(0)} MB median (runs ${results.map((x) => x.rssMb.toFixed(0)).join(', ')} MB)`,
    );
    if (n === 10_000)
      console.log(
        `target 10,000 requests in ≤ 10 s: ${ms <= 10_000 ? 'met' : 'NOT met'} (${(ms / 1000).toFixed(2)} s); ≤ 300 MB: ${rss <= 300 ? 'met' : 'NOT met'} (${rss.toFixed(0)} MB)`,
      );
    console.log(
      `         CPU: simulate ${(median(results.map((x) => x.cpuMs)) / 1000).toFixed(2)} s, the fake GitLab ${(median(results.map((x) => x.fakeCpuMs)) / 1000).toFixed(2)} s (medians); ${diffs.length} changed: ${summary.slice(0, 160)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `load average at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
