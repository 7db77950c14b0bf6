// Parse + validate + qualify throughput on the bundled sample descriptions, on one core.
// Usage: npm run build && node bench/parse.js [--runs 7] [--count 20000]
// Reports the median of several runs, and a baseline measured in the same run (splitting each
// description into lines and testing one regex per line) so results compare across noisy machines.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../dist/config/load-config.js';
import { PACKAGE_ROOT } from '../dist/package-root.js';
import { parse } from '../dist/domain/parse.js';
import { qualify } from '../dist/domain/qualify.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, count: { type: 'string', default: '20000' } },
});
const runs = Number(values.runs);
const count = Number(values.count);

const config = loadConfig(join(PACKAGE_ROOT, '.gitlab', 'scale-bot.yml'));
const dir = join(PACKAGE_ROOT, 'samples', 'requests');
const descriptions = readdirSync(dir)
  .sort()
  .map((f) => readFileSync(join(dir, f), 'utf8'));
const avgBytes = descriptions.reduce((n, d) => n + Buffer.byteLength(d), 0) / descriptions.length;
const today = '2026-11-22';

function work(d) {
  const request = parse(d, config.catalog);
  return qualify(request, 'alex.ae', config, today).status.length;
}

const HEADING = /^###\s/;
function baseline(d) {
  let n = 0;
  for (const line of d.split('\n')) if (HEADING.test(line)) n++;
  return n;
}

function rate(fn) {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) sink += fn(descriptions[i % descriptions.length]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink < 0) console.log(sink); // keeps the work observable
  return count / seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

rate(work);
rate(baseline); // warm-up
const workRates = [];
const baseRates = [];
for (let r = 0; r < runs; r++) {
  workRates.push(rate(work));
  baseRates.push(rate(baseline));
}
const w = median(workRates);
const b = median(baseRates);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), node ${process.version}`);
console.log(
  `descriptions: ${descriptions.length} samples, ${Math.round(avgBytes)} bytes on average; ${runs} runs of ${count}`,
);
console.log(
  `parse+validate+qualify: median ${Math.round(w).toLocaleString('en-US')} descriptions/s (runs: ${workRates.map((x) => Math.round(x)).join(', ')})`,
);
console.log(`baseline (split lines + 1 regex/line): median ${Math.round(b).toLocaleString('en-US')} descriptions/s`);
console.log(`ratio work/baseline: ${(w / b).toFixed(3)}; target 20,000/s: ${w >= 20000 ? 'met' : 'NOT met'}`);
