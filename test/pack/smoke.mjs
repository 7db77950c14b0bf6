#!/usr/bin/env node
/**
 * Packed-install smoke test (issue #16, points 10 and 11), run by .ci/run after `npm test`:
 * 1. `npm pack` ships only what production needs (no fake GitLab, demo, tests, source maps);
 * 2. the tarball installs with `--omit=dev` into an empty directory (no devDependency arrives);
 * 3. `scale-bot serve` from that install, against the fake GitLab started from this checkout
 *    (test-only code, never in the package), answers /healthz, takes a webhook and handles the
 *    request end to end (labels and the bot's note);
 * 4. SIGTERM stops it cleanly (exit 0) within the grace period the README documents;
 * 5. `scale-bot demo` from the install says it needs a source checkout.
 * The image build (Dockerfile) runs the same install; this is what can be tested without a registry.
 * Any failure prints what the service logged and exits 1.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO = resolve(import.meta.dirname, '..', '..');
/** README, "Deployment": SIGTERM ends the service within this grace period. */
const GRACE_MS = 30_000;
const work = mkdtempSync(join(tmpdir(), 'scale-bot-pack-'));
const logs = [];
let fake = null;
let child = null;

const step = (text) => console.log(`pack-smoke: ${text}`);
function check(ok, message) {
  if (!ok) throw new Error(message);
}
async function until(what, probe, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function pack() {
  step('npm pack');
  const [info] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: REPO,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const files = info.files.map((f) => f.path);
  const unwanted = files.filter((f) => /^dist\/(fake-gitlab|demo)\/|\.map$|^(test|src|bench|samples)\//.test(f));
  check(unwanted.length === 0, `the package holds what production does not need: ${unwanted.join(', ')}`);
  for (const needed of [
    'bin/scale-bot.js',
    'dist/cli/main.js',
    'dist/service/service.js',
    'templates/notes/request.md.hbs',
    '.gitlab/scale-bot.yml',
  ]) {
    check(files.includes(needed), `the package lacks ${needed}`);
  }
  step(`${info.filename}: ${files.length} files, ${info.size} bytes`);
  return join(work, info.filename);
}

function install(tarball) {
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scale-bot-smoke', private: true }));
  step('npm install --omit=dev (better-sqlite3 may compile from source: about a minute)');
  // npm itself has been seen to hang after resolving, idle with no socket or child (2026-12-08):
  // a bounded wait, then one fresh attempt, instead of a CI run stuck until its own limit.
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
        cwd: app,
        stdio: 'inherit',
        timeout: 6 * 60_000,
      });
      break;
    } catch (err) {
      if (attempt === 2 || err.signal !== 'SIGTERM') throw err;
      step('npm install did not finish in 6 minutes; trying once more from a clean directory');
      rmSync(join(app, 'node_modules'), { recursive: true, force: true });
      rmSync(join(app, 'package-lock.json'), { force: true });
    }
  }
  const pkg = join(app, 'node_modules', 'scale-bot');
  // A devDependency may still arrive as some production package's own dependency (js-yaml does);
  // one that nothing else installed needs came from our devDependencies.
  const dev = Object.keys(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).devDependencies);
  const needed = neededByOthers(join(app, 'node_modules'));
  const leaked = dev.filter((d) => existsSync(join(app, 'node_modules', d)) && !needed.has(d));
  check(leaked.length === 0, `devDependencies were installed: ${leaked.join(', ')}`);
  check(
    !existsSync(join(app, 'node_modules', 'vitest')) && !existsSync(join(app, 'node_modules', 'typescript')),
    'test tooling was installed',
  );
  check(!existsSync(join(pkg, 'dist', 'fake-gitlab')), 'the installed package holds the fake GitLab');
  return { app, bin: join(pkg, 'bin', 'scale-bot.js') };
}

/** Names that installed packages other than scale-bot depend on (dependencies, optional, peer). */
function neededByOthers(modules) {
  const names = new Set();
  const dirs = readdirSync(modules).flatMap((d) =>
    d.startsWith('@') ? readdirSync(join(modules, d)).map((n) => join(d, n)) : [d],
  );
  for (const dir of dirs) {
    if (dir === 'scale-bot' || dir.startsWith('.')) continue;
    let pkg;
    try {
      pkg = JSON.parse(readFileSync(join(modules, dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies'])
      for (const name of Object.keys(pkg[field] ?? {})) names.add(name);
  }
  return names;
}

async function serve(app, bin) {
  const { startFakeGitLab } = await import(pathToFileURL(join(REPO, 'dist', 'fake-gitlab', 'server.js')).href);
  fake = await startFakeGitLab({ labels: ['segment::mm', 'region::amr'] });
  const env = {
    PATH: process.env.PATH,
    GITLAB_URL: fake.url,
    GITLAB_TOKEN: fake.botToken,
    GITLAB_WEBHOOK_SECRET: 'pack-smoke-secret',
    GITLAB_PROJECT: fake.project.path_with_namespace,
    SCALE_BOT_DATA: join(work, 'data'),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
  };
  step('scale-bot serve, from the installed package');
  child = spawn(process.execPath, [bin, 'serve'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal, at: Date.now() })));
  let buffered = '';
  child.stdout.on('data', (d) => {
    buffered += d;
    logs.push(String(d));
  });
  child.stderr.on('data', (d) => logs.push(String(d)));
  const url = await until(
    'the service to listen',
    () => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(buffered)?.[1],
    30_000,
  );
  check((await fetch(`${url}/healthz`)).status === 200, '/healthz did not answer 200');
  fake.setWebhook({ url: `${url}/webhooks/gitlab`, token: env.GITLAB_WEBHOOK_SECRET });
  return { url, exited };
}

async function passWebhook() {
  const sample = readFileSync(join(REPO, 'samples', 'requests', 'mm-amr-valid.md'), 'utf8');
  const issue = await fake.as('alex.ae').createIssue({
    title: 'Scale engagement request: Northwind Traders',
    description: `${sample.trimEnd()}\n\n/label ~"segment::mm" ~"region::amr"\n`,
  });
  step(`issue #${issue.iid} opened; waiting for the bot`);
  await until(
    'the bot to assign the request and write its note',
    () => {
      const now = fake.issue(issue.iid);
      return now.labels.includes('engagement::assigned') &&
        fake.botNotes(issue.iid).some((n) => n.body.includes('scale-bot:request'))
        ? now
        : null;
    },
    60_000,
  );
  check(fake.deliveries.length > 0, 'no webhook was delivered');
  check(fake.violations.length === 0, `unsafe text: ${fake.violations.join('; ')}`);
  step(`#${issue.iid}: engagement::assigned, request note written (${fake.deliveries.length} webhooks delivered)`);
}

async function stopWithSigterm(exited) {
  const sent = Date.now();
  child.kill('SIGTERM');
  const end = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), GRACE_MS))]);
  check(end !== null, `still running ${GRACE_MS} ms after SIGTERM`);
  check(end.code === 0, `exited with ${end.code ?? end.signal} after SIGTERM, not 0`);
  step(`SIGTERM: exit 0 after ${end.at - sent} ms`);
  child = null;
}

function demoNeedsCheckout(app, bin) {
  let result;
  try {
    execFileSync(process.execPath, [bin, 'demo'], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
    result = { status: 0, stderr: '' };
  } catch (err) {
    result = err;
  }
  check(
    result.status === 1 && /source checkout/.test(result.stderr),
    `scale-bot demo from the package: exit ${result.status}, ${result.stderr}`,
  );
  step('scale-bot demo from the package: refuses, naming the source checkout');
}

try {
  const tarball = pack();
  const { app, bin } = install(tarball);
  const { exited } = await serve(app, bin);
  await passWebhook();
  await stopWithSigterm(exited);
  demoNeedsCheckout(app, bin);
  step('passed');
} catch (err) {
  console.error(`pack-smoke: FAILED: ${err.message}`);
  if (logs.length > 0) console.error(`--- service output ---\n${logs.join('')}`);
  process.exitCode = 1;
} finally {
  child?.kill('SIGKILL');
  await fake?.stop();
  rmSync(work, { recursive: true, force: true });
}
