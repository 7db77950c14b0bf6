// The programme report at scale (issue #5): wall time and peak memory of `scale-bot report` over a
// project holding 1,000 / 10,000 / 50,000 requests with their label histories.
// Usage: npm run build && node bench/report.js [--sizes 1000,10000,50000] [--runs 3] [--profile DIR]
// (--profile: each run of the CLI writes a CPU and a heap profile into DIR, for finding costs; its times are not measurements)
//
// The fake GitLab (`startFakeGitLab`, no added latency) runs here, seeded with N requests made from
// the four sample descriptions (customer and Salesforce id unique per request), all opened in
// October 2026, each with the label events a real request has (assigned; then accepted, completed
// and closed for about half, needs-info or not-qualified for others). The report runs as the real
// CLI in a child process — `node bin/scale-bot.js report --from 2026-10-01 --to 2026-10-31 --out
// DIR` — so its wall time and peak RSS are its own: RSS is read from the child's
// `process.resourceUsage().maxRSS` at exit (a preload, bench/report-rss.cjs). The requester's pace
// is lifted (GITLAB_REQUESTS_PER_MINUTE=6,000,000): at GitLab.com's 2,000 requests/min the 10,000
// label-event reads alone take 5 minutes by design, and what is measured here is the bot's own cost.
// Each size runs `--runs` times (fresh child each time); medians are reported, with the time per
// 1,000 requests as the linearity check against the smallest size measured in the same run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startFakeGitLab } from '../dist/fake-gitlab/server.js';
import { runMeasuredCli } from './measured-cli.js';
import { median, seededRequest } from './seed.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,50000' },
    runs: { type: 'string', default: '3' },
    profile: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);

/** One request of the seeded history: description, labels and label events by its index. */
function seed(i) {
  const { file, description, cse } = seededRequest(i);
  const created = Date.UTC(2026, 9, 1) + (i * 2_592_000_000) / sizes.at(-1); // spread over October
  const at = (hours) => new Date(created + hours * 3_600_000);
  const bot = 'scale-bot';
  if (!cse) {
    const state = file.includes('missing') ? 'needs-info' : 'not-qualified';
    return {
      title: `Request ${i}`,
      description,
      author: 'jordan.ae',
      labels: [`engagement::${state}`],
      createdAt: at(0),
      updatedAt: at(0.01),
      history: [{ label: `engagement::${state}`, action: 'add', at: at(0.01), by: bot }],
    };
  }
  const history = [{ label: 'engagement::assigned', action: 'add', at: at(0.01), by: bot }];
  if (i % 2 === 0) {
    history.push(
      { label: 'engagement::accepted', action: 'add', at: at(20), by: cse },
      { label: 'engagement::assigned', action: 'remove', at: at(20), by: cse },
    );
    history.push(
      { label: 'engagement::completed', action: 'add', at: at(200), by: cse },
      { label: 'engagement::accepted', action: 'remove', at: at(200), by: cse },
    );
    return {
      title: `Request ${i}`,
      description,
      author: 'alex.ae',
      assignees: [cse],
      labels: ['engagement::completed'],
      state: 'closed',
      createdAt: at(0),
      updatedAt: at(200),
      closedAt: at(200),
      history,
    };
  }
  return {
    title: `Request ${i}`,
    description,
    author: 'alex.ae',
    assignees: [cse],
    labels: ['engagement::assigned'],
    createdAt: at(0),
    updatedAt: at(0.01),
    history,
  };
}

function runReport(fake, out) {
  return runMeasuredCli(
    fake,
    ['report', '--from', '2026-10-01', '--to', '2026-10-31', '--out', out],
    values.profile ?? null,
  );
}

const load0 = loadavg()[0];
const rows = [];
for (const n of sizes) {
  const fake = await startFakeGitLab();
  const t0 = Date.now();
  fake.seedIssues(n, seed);
  const seedMs = Date.now() - t0;
  const results = [];
  for (let r = 0; r < runs; r++) {
    const out = mkdtempSync(join(tmpdir(), 'bench-report-'));
    try {
      const result = await runReport(fake, out);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      if (report.opened.total !== n) throw new Error(`report counted ${report.opened.total} requests, seeded ${n}`);
      results.push(result);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  await fake.stop();
  const ms = median(results.map((x) => x.ms));
  const rss = median(results.map((x) => x.rssMb));
  const cpu = median(results.map((x) => x.cpuMs));
  const fakeCpu = median(results.map((x) => x.fakeCpuMs));
  rows.push({ n, ms, rss });
  console.log(
    `${String(n).padStart(6)} requests (seeded in ${seedMs} ms): wall ${(ms / 1000).toFixed(2)} s median (runs ${results.map((x) => (x.ms / 1000).toFixed(2)).join(', ')} s), peak RSS ${rss.toFixed(0)} MB median (runs ${results.map((x) => x.rssMb.toFixed(0)).join(', ')} MB)`,
  );
  console.log(
    `         CPU: the report ${(cpu / 1000).toFixed(2)} s, the fake GitLab serving it ${(fakeCpu / 1000).toFixed(2)} s (medians; 2 cores shared)`,
  );
}
const base = rows[0];
console.log(
  `\nmachine: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), node ${process.version}, load average ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`,
);
console.log('linearity: time per 1,000 requests, and its ratio to the smallest size of this run');
for (const r of rows)
  console.log(
    `  ${String(r.n).padStart(6)}: ${(((r.ms / r.n) * 1000) / 1000).toFixed(2)} s per 1,000 (${(r.ms / r.n / (base.ms / base.n)).toFixed(2)}× the ${base.n}-request rate)`,
  );
const ten = rows.find((r) => r.n === 10_000);
if (ten) {
  console.log(
    `target 10,000 requests in ≤ 10 s: ${ten.ms <= 10_000 ? 'met' : 'NOT met'} (${(ten.ms / 1000).toFixed(2)} s)`,
  );
  console.log(`target ≤ 300 MB at 10,000: ${ten.rss <= 300 ? 'met' : 'NOT met'} (${ten.rss.toFixed(0)} MB)`);
}
