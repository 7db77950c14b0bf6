// End to end: a new request's webhook → labels and assignee applied in GitLab, and the API calls
// it costs (issue #3, targets 2 and 3).
// Usage: npm run build && node bench/e2e.js [--rate 20] [--seconds 20] [--latency 50] [--concurrency 4,16]
//        [--search-limits 0,30] [--burst 40]
//        (BENCH_DEBUG=1 also prints a few call timelines and one rewritten note's diff)
//
// Each concurrency runs once per search limit of the fake GitLab: 0 is none, 30 is GitLab.com's
// `search_rate_limit` (30 searches a minute per user, then 429 with Retry-After 60), so the
// limited run is measured beside the unlimited one in the same invocation. Before the steady
// stream, a quarter-end burst: `--burst` new requests created at once.
//
// The real service (`startService` from dist/: SQLite inbox, express app, worker, all shipped
// defaults: coalescing window 250 ms, production logger at info to /dev/null) runs in a child
// process, once with WORKER_CONCURRENCY 4 and once with the shipped default 16 (fresh fake, inbox and
// baseline for each); the fake GitLab (`startFakeGitLab`, 50 ms added before answering every
// API request) and the load run here, so the fake's timers do not share an event loop with the bot.
// Requester limits are raised for the bench: GITLAB_REQUESTS_PER_MINUTE and GITLAB_NOTES_PER_MINUTE
// 60,000 (GitLab.com's 60 notes/min default would throttle 20 requests/s to 1 request/s);
// GITLAB_SEARCHES_PER_MINUTE stays at the shipped 30.
//
// Each request is a new issue created by its AE with a valid sample description
// (samples/requests/mm-amr-valid.md and ent-amr-valid.md, alternately) and the template's quick
// action line appended, as test/e2e does; customer name and Salesforce id are made unique per
// request, as a stream of real requests would be (the same account 400 times would be flagged as
// duplicates and at its engagement limit, not assigned).
//
// Latency is timed from the `createIssue` call (which sends the webhook) to the moment the fake
// GitLab finishes answering the bot's `PUT /issues/:iid` after which the issue has
// `engagement::assigned` and an assignee: each recorded call's `status` is set on the response's
// `finish`, so the bench wraps `fake.calls.push` and turns `status` into a setter that checks the
// issue's state right then. That is exact to the response flush, whereas polling state every 5 ms
// would add up to 5 ms (a 5 ms poll runs alongside as a cross-check).
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../dist/config/load-config.js';
import { PACKAGE_ROOT } from '../dist/package-root.js';

const SECRET = 'bench-webhook-secret';
const config = loadConfig(join(PACKAGE_ROOT, '.gitlab', 'scale-bot.yml'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- child: the service ----------------------------------------------------------------------------

if (process.argv.includes('--serve')) {
  const { startService } = await import('../dist/service/service.js');
  const { createLogger } = await import('../dist/service/logger.js');
  const { DEFAULT_REQUESTER_SETTINGS } = await import('../dist/gitlab/requester.js');
  process.once('message', async (msg) => {
    const settings = {
      gitlabUrl: msg.fakeUrl,
      gitlabToken: msg.botToken,
      webhookSecret: SECRET,
      signingKey: null,
      project: msg.project,
      configPath: undefined,
      dataDir: msg.dataDir,
      host: '127.0.0.1',
      port: 0,
      dryRun: false,
      logLevel: 'info',
      requester: { ...DEFAULT_REQUESTER_SETTINGS, requestsPerMinute: 60_000, notesPerMinute: 60_000 },
      concurrency: msg.concurrency,
      queue: { kind: 'sqlite' },
    };
    // As `scale-bot serve` starts it: default coalescing and worker options, production logger.
    const service = await startService(settings, config, { server: true, worker: true, logger: createLogger('info') });
    process.send({ url: service.url });
    process.once('message', async () => {
      await service.stop(5_000);
      process.exit(0);
    });
  });
} else {
  await main();
}

// --- parent: fake GitLab and load ------------------------------------------------------------------

async function main() {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '20' },
      seconds: { type: 'string', default: '20' },
      latency: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '4,16' },
      'search-limits': { type: 'string', default: '0,30' },
      burst: { type: 'string', default: '40' },
    },
  });
  const opts = {
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    latencyMs: Number(values.latency),
    burstSize: Number(values.burst),
  };
  const load0 = loadavg()[0];
  const results = [];
  for (const c of values.concurrency.split(',').map(Number)) {
    for (const searchLimit of values['search-limits'].split(',').map(Number))
      results.push(await runConfig({ ...opts, concurrency: c, searchLimit }));
  }
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), node ${process.version}, load average ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`,
  );
  console.log(
    `service: shipped defaults (coalescing quiet 250 ms / max 1000 ms, production logger at info) except requester limits raised to 60,000 requests/min and 60,000 notes/min; fake GitLab +${opts.latencyMs} ms per API call`,
  );
  console.log(
    `critical path to labels+assignee: coalescing quiet window 250 ms, then GET issue ∥ GET notes ∥ GET issues?updated_after (account index, shared by concurrent passes), PUT issue = 2 sequential calls → floor 250 + 2 × ${opts.latencyMs} = ${250 + 2 * opts.latencyMs} ms (+${opts.latencyMs} ms when a CSE's user id is not cached yet, or when a pass waits for an index listing already running)`,
  );
  for (const r of results) console.log(`\n${r.lines.join('\n')}`);
  // Each limited run against the unlimited run of the same concurrency, measured in this invocation.
  for (const r of results.filter((x) => x.searchLimit > 0)) {
    const base = results.find((x) => x.searchLimit === 0 && x.concurrency === r.concurrency);
    if (!base) continue;
    console.log(
      `\nsearch limit ${r.searchLimit}/min vs none, WORKER_CONCURRENCY ${r.concurrency}: time-to-assign p99 rush ${Math.round(r.rushP99)} vs ${Math.round(base.rushP99)} ms (${(r.rushP99 / base.rushP99).toFixed(2)}×), ` +
        `stream ${Math.round(r.streamP99)} vs ${Math.round(base.streamP99)} ms (${(r.streamP99 / base.streamP99).toFixed(2)}×)`,
    );
  }
}

async function runConfig({ rate, seconds, latencyMs, concurrency, searchLimit, burstSize }) {
  const out = [];
  const { startFakeGitLab } = await import('../dist/fake-gitlab/server.js');
  const labels = new Set();
  for (const form of config.forms) {
    labels.add(config.catalog.segmentLabel(form.segment));
    labels.add(config.catalog.regionLabel(form.region));
  }
  const fake = await startFakeGitLab({ latencyMs, labels: [...labels], searchRateLimit: searchLimit });
  const bot = fake.botUsername;
  const assignedLabel = `${config.labels.engagement}::assigned`.toLowerCase();
  const isDone = (iid) => {
    const issue = fake.issue(iid);
    return issue.assignees.length > 0 && issue.labels.some((l) => l.toLowerCase() === assignedLabel);
  };

  // Exact "applied" instants: the bot's PUT on an issue, when the fake finishes answering it.
  const appliedAt = new Map(); // iid → performance.now()
  const push = fake.calls.push;
  fake.calls.push = function (...calls) {
    for (const call of calls) {
      const m = /\/issues\/(\d+)$/.exec(call.path);
      if (call.method === 'PUT' && m && call.actor === bot) {
        const iid = Number(m[1]);
        let status = call.status;
        Object.defineProperty(call, 'status', {
          enumerable: true,
          configurable: true,
          get: () => status,
          set: (v) => {
            status = v;
            if (!appliedAt.has(iid) && v >= 200 && v < 300 && isDone(iid)) appliedAt.set(iid, performance.now());
          },
        });
      }
    }
    return push.apply(this, calls);
  };
  // Cross-check: poll the fake's state every 5 ms.
  const polledAt = new Map();
  const watching = new Set();
  const poller = setInterval(() => {
    for (const iid of watching) {
      if (isDone(iid)) {
        polledAt.set(iid, performance.now());
        watching.delete(iid);
      }
    }
  }, 5);

  const dataDir = mkdtempSync(join(tmpdir(), 'scale-bot-bench-e2e-'));
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const started = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`service exited (${code})`)));
  });
  child.send({
    fakeUrl: fake.url,
    botToken: fake.botToken,
    project: fake.project.path_with_namespace,
    dataDir,
    concurrency,
  });
  const { url } = await started;
  fake.setWebhook({ url: `${url}/webhooks/gitlab`, token: SECRET });

  // Requests: unique account per request, the two valid samples alternately.
  const sample = (name) => readFileSync(join(PACKAGE_ROOT, 'samples', 'requests', name), 'utf8');
  const forms = [
    {
      text: sample('mm-amr-valid.md'),
      customer: 'Northwind Traders',
      crm: '0014M00001lAbCdQAK',
      author: 'alex.ae',
      segment: 'mm',
      region: 'amr',
    },
    {
      text: sample('ent-amr-valid.md'),
      customer: 'Contoso Pharmaceuticals',
      crm: '0016100000XyZabAAB',
      author: 'sam.sal',
      segment: 'ent',
      region: 'amr',
    },
  ];
  let made = 0;
  const newRequest = () => {
    const n = made++;
    const f = forms[n % forms.length];
    const customer = `Benchmark Account ${String(n).padStart(4, '0')}`;
    const crm = `001BNCH${String(n).padStart(8, '0')}`;
    const description = `${f.text.replace(f.customer, customer).replace(f.crm, crm).trimEnd()}\n\n/label ~"segment::${f.segment}" ~"region::${f.region}"\n`;
    return { n, author: f.author, title: `Scale request: ${customer}`, description, crm };
  };
  const created = []; // { t0, wall0, iid, title, author }
  const create = async (req) => {
    // Only this driver creates issues, so the fake numbers them 1, 2, 3…: the iid is known at once
    // (checked below), and the 5 ms poll starts watching before the webhook is even answered.
    const entry = { t0: 0, wall0: 0, iid: created.length + 1, title: req.title, author: req.author, crm: req.crm };
    created.push(entry);
    entry.wall0 = Date.now();
    entry.t0 = performance.now();
    const promise = fake.as(req.author).createIssue({ title: req.title, description: req.description });
    watching.add(entry.iid);
    const issue = await promise;
    if (issue.iid !== entry.iid) throw new Error(`expected iid ${entry.iid}, the fake gave ${issue.iid}`);
    return entry;
  };
  const waitFor = async (cond, limitMs) => {
    const until = Date.now() + limitMs;
    while (!cond() && Date.now() < until) await sleep(5);
    return cond();
  };
  // Until the bot is quiet: webhooks answered, no bot call unanswered and none for `quietMs`.
  const drain = async (quietMs, limitMs) => {
    const since = Date.now();
    const until = since + limitMs;
    for (;;) {
      await fake.settled();
      const mine = fake.callsBy(bot);
      const last = Math.max(since, mine.length ? mine[mine.length - 1].at : 0);
      if ((mine.every((c) => c.status !== null) && Date.now() - last >= quietMs) || Date.now() > until) return;
      await sleep(50);
    }
  };
  const latencyOf = (e) => (appliedAt.has(e.iid) ? appliedAt.get(e.iid) - e.t0 : null);

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  };
  const ms = (x) => `${Math.round(x)} ms`;

  const stats = { concurrency, searchLimit, rushP99: NaN, streamP99: NaN };
  try {
    // Warm-up (JIT, user-id cache of the first CSEs), then the idle baseline: one request at a time.
    for (let i = 0; i < 2; i++) {
      const e = await create(newRequest());
      await waitFor(() => appliedAt.has(e.iid), 10_000);
      await drain(300, 10_000);
    }
    const idle = [];
    for (let i = 0; i < 6; i++) {
      const e = await create(newRequest());
      await waitFor(() => appliedAt.has(e.iid), 10_000);
      idle.push(latencyOf(e));
      await drain(300, 10_000);
    }

    // A quarter-end rush: `burstSize` new requests created at once.
    fake.resetCalls();
    const rush = await Promise.all(Array.from({ length: burstSize }, () => create(newRequest())));
    await waitFor(() => rush.every((e) => appliedAt.has(e.iid)), 120_000);
    await drain(1_000, 30_000);
    const rushLat = rush.map(latencyOf).filter((x) => x !== null);
    const rushCalls = fake.callsBy(bot);

    // The stream: `rate` new requests per second, evenly spaced, open loop, for `seconds`.
    fake.resetCalls();
    const total = Math.round(rate * seconds);
    const burst = [];
    const t0 = performance.now();
    const inFlight = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const req = newRequest();
      inFlight.push(create(req).then((e) => burst.push(e)));
    }
    const sentIn = (performance.now() - t0) / 1000;
    await Promise.all(inFlight);
    await waitFor(() => burst.every((e) => appliedAt.has(e.iid)), 30_000);
    await drain(1_000, 30_000);
    const burstCalls = fake.callsBy(bot);
    const lat = burst.map(latencyOf).filter((x) => x !== null);
    const missing = burst.length - lat.length;
    const pollDiff = burst
      .filter((e) => polledAt.has(e.iid) && appliedAt.has(e.iid))
      .map((e) => polledAt.get(e.iid) - appliedAt.get(e.iid));
    const byIid = new Map(burst.map((e) => [e.iid, e]));
    // Where the time goes: until the bot's first call about the issue, then until applied.
    const firstCall = new Map();
    for (const c of burstCalls) {
      const m = /\/issues\/(\d+)(?:\/|$)/.exec(c.path);
      if (m && !firstCall.has(Number(m[1]))) firstCall.set(Number(m[1]), c.at);
    }
    const toFirst = burst.filter((e) => firstCall.has(e.iid)).map((e) => firstCall.get(e.iid) - e.wall0);
    const firstToApplied = burst
      .filter((e) => firstCall.has(e.iid) && appliedAt.has(e.iid))
      .map((e) => latencyOf(e) - (firstCall.get(e.iid) - e.wall0));

    // API economy of new requests, counted by the fake.
    const isWrite = (c) => c.method !== 'GET' && c.method !== 'HEAD';
    const perIssue = new Map();
    const kinds = new Map();
    for (const c of burstCalls) {
      const kind = `${c.method} ${c.path
        .replace(/\/projects\/[^/]+/, '/projects/:id')
        .replace(/\/issues\/\d+/, '/issues/:iid')
        .replace(/\/notes\/\d+/, '/notes/:id')}${c.query?.search ? '?search' : ''}`;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      const m = /\/issues\/(\d+)(?:\/|$)/.exec(c.path);
      if (m && byIid.has(Number(m[1]))) {
        const s = perIssue.get(Number(m[1])) ?? { calls: 0, writes: 0 };
        s.calls++;
        if (isWrite(c)) s.writes++;
        perIssue.set(Number(m[1]), s);
      }
    }
    const callsPer = burstCalls.length / burst.length;
    const writesPer = burstCalls.filter(isWrite).length / burst.length;
    const maxIssueCalls = Math.max(...[...perIssue.values()].map((s) => s.calls));
    const maxIssueWrites = Math.max(...[...perIssue.values()].map((s) => s.writes));
    const userLookups = burstCalls.filter((c) => c.path.endsWith('/users')).length;
    // Issues whose request note (as first posted) explains that CSEs were skipped at capacity.
    const skippedIssues = new Set(
      burstCalls
        .filter(
          (c) =>
            c.method === 'POST' &&
            /\/notes$/.test(c.path) &&
            /skipped [\w.-]+: .*capacity/.test(String(c.body?.body ?? '')),
        )
        .map((c) => Number(/\/issues\/(\d+)\//.exec(c.path)[1])),
    );

    // Redundant events: each burst issue's title edited by its author (the bot ignores titles).
    fake.resetCalls();
    const edits = [];
    const e0 = performance.now();
    for (let i = 0; i < burst.length; i++) {
      const wait = e0 + (i * 1000) / (2 * rate) - performance.now();
      if (wait > 0) await sleep(wait);
      const e = burst[i];
      edits.push(fake.as(e.author).editIssue(e.iid, { title: `${e.title} (renamed)` }));
    }
    await Promise.all(edits);
    await drain(1_000, 30_000);
    const editCalls = fake.callsBy(bot);
    const editWrites = editCalls.filter(isWrite);
    const writesOn = (set) => editWrites.filter((c) => set.has(Number(/\/issues\/(\d+)/.exec(c.path)?.[1]))).length;
    const editKinds =
      [
        ...new Set(
          editWrites.map(
            (c) =>
              `${c.method} ${c.path
                .replace(/\/projects\/[^/]+/, '/projects/:id')
                .replace(/\/issues\/\d+/, '/issues/:iid')
                .replace(/\/notes\/\d+/, '/notes/:id')}`,
          ),
        ),
      ].join(', ') || 'none';
    if (process.env.BENCH_DEBUG) {
      for (const e of burst.slice(0, 3).concat(burst.slice(-2))) {
        console.log(
          `#${e.iid}:`,
          burstCalls
            .filter(
              (c) =>
                c.path.endsWith(`/issues/${e.iid}`) ||
                c.path.includes(`/issues/${e.iid}/`) ||
                c.query?.search === e.crm,
            )
            .map(
              (c) =>
                `${c.method} ${c.path.replace(/.*issues\/\d+/, '')}${c.query?.search ? 'search' : ''} +${c.at - e.wall0}`,
            )
            .join(' | '),
          'applied +',
          Math.round(latencyOf(e)),
        );
      }
      // One rewritten note, diffed against the note as first posted.
      const c = editWrites.find((w) => w.method === 'PUT' && /\/notes\/\d+$/.test(w.path));
      if (c) {
        const { diffLines } = await import('diff');
        const iid = /\/issues\/(\d+)\//.exec(c.path)[1];
        const first = burstCalls.find((w) => w.method === 'POST' && w.path.endsWith(`/issues/${iid}/notes`));
        console.log(`note rewritten on #${iid} after a title edit:`);
        for (const part of diffLines(String(first?.body?.body ?? ''), String(c.body?.body ?? ''))) {
          if (part.added || part.removed)
            console.log(
              part.value
                .replace(/\n$/, '')
                .split('\n')
                .map((l) => `  ${part.added ? '+' : '-'} ${l}`)
                .join('\n'),
            );
        }
      }
    }

    stats.rushP99 = pct(rushLat, 99);
    stats.streamP99 = pct(lat, 99);
    const shipped = concurrency === 16 ? ' (shipped default)' : ' (setting changed for this run)';
    out.push(
      `== WORKER_CONCURRENCY ${concurrency}${shipped}; fake GitLab search limit: ${searchLimit === 0 ? 'none' : `${searchLimit}/min per user (GitLab.com)`}`,
    );
    out.push(
      `idle baseline (one request at a time, after 2 warm-up requests): median ${ms(median(idle))} (runs: ${idle.map((x) => Math.round(x)).join(', ')})`,
    );
    const searches = (calls) => calls.filter((c) => c.query?.search).length;
    const limited = (calls) => calls.filter((c) => c.status === 429).length;
    out.push(
      `rush: ${rush.length} new requests at once → labelled and assigned: p50 ${ms(pct(rushLat, 50))}, p99 ${ms(pct(rushLat, 99))}, max ${ms(Math.max(...rushLat))}; count ${rushLat.length}/${rush.length}; ${searches(rushCalls)} searches, ${limited(rushCalls)} answers 429`,
    );
    out.push(
      `burst: ${burst.length} new requests at ${rate}/s, sent in ${sentIn.toFixed(1)} s (mm_amr and ent_amr alternately); ${searches(burstCalls)} searches, ${limited(burstCalls)} answers 429`,
    );
    out.push(
      `  webhook → labelled and assigned: p50 ${ms(pct(lat, 50))}, p90 ${ms(pct(lat, 90))}, p99 ${ms(pct(lat, 99))}, max ${ms(Math.max(...lat))}; count ${lat.length}/${burst.length}${missing ? ` (${missing} never assigned)` : ''}`,
    );
    out.push(
      `  p50 / p99 over the idle baseline median: ${(pct(lat, 50) / median(idle)).toFixed(2)}× / ${(pct(lat, 99) / median(idle)).toFixed(2)}×`,
    );
    out.push(
      `  split: createIssue → bot's first call about the issue p50 ${ms(pct(toFirst, 50))}, p99 ${ms(pct(toFirst, 99))}; first call → applied p50 ${ms(pct(firstToApplied, 50))}, p99 ${ms(pct(firstToApplied, 99))}`,
    );
    out.push(
      `  cross-check, 5 ms poll of the fake's state: later than the PUT's answer by median ${pct(pollDiff, 50).toFixed(1)} ms, max ${Math.max(...pollDiff).toFixed(1)} ms (n=${pollDiff.length})`,
    );
    out.push(`API economy, new valid requests (the bot's calls during the burst, counted by the fake):`);
    out.push(
      `  ${burstCalls.length} calls for ${burst.length} requests = ${callsPer.toFixed(2)} per request, ${writesPer.toFixed(2)} writes per request; per issue at most ${maxIssueCalls} calls on /issues/:iid + at most 1 account-index listing, of which ${maxIssueWrites} writes; ${userLookups} one-time user-id lookups (cache misses)`,
    );
    out.push(
      `  by kind: ${[...kinds]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ×${n}`)
        .join(', ')}`,
    );
    out.push(
      `redundant events: ${burst.length} title edits (a change the bot ignores): the bot made ${editCalls.length} calls (${(editCalls.length / burst.length).toFixed(2)} per event), ${editWrites.length} writes (${editKinds})`,
    );
    out.push(
      `  issues whose note named CSEs skipped at capacity: ${skippedIssues.size}, with ${writesOn(skippedIssues)} writes; the other ${burst.length - skippedIssues.size} issues: ${editWrites.length - writesOn(skippedIssues)} writes`,
    );
    out.push(`fake GitLab violations (text GitLab would act on): ${fake.violations.length}`);
    out.push(
      `target p99 ≤ 1 s: ${pct(lat, 99) <= 1000 && missing === 0 ? 'met' : 'NOT met'} (${ms(pct(lat, 99))}${missing ? `, ${missing} missing` : ''})`,
    );
    out.push(
      `target ≤ 5 calls per new request: ${maxIssueCalls + 1 <= 5 ? 'met' : 'NOT met'} (${maxIssueCalls + 1} per request; ${callsPer.toFixed(2)} on average with the ${userLookups} user-id cache fills)`,
    );
    out.push(
      `target ≤ 3 writes per new request: ${maxIssueWrites <= 3 ? 'met' : 'NOT met'} (at most ${maxIssueWrites}, ${writesPer.toFixed(2)} on average)`,
    );
    out.push(
      `target 0 writes for a redundant event: ${editWrites.length === 0 ? 'met' : 'NOT met'} (${editWrites.length} writes for ${burst.length} events)`,
    );
  } finally {
    clearInterval(poller);
    await new Promise((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 10_000);
      child.removeAllListeners('exit');
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.send('stop');
    });
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { lines: out, ...stats };
}
