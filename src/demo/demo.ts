import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PACKAGE_ROOT } from '../package-root.js';
import { readNoteMarker } from '../domain/bot-note-marker.js';
import type { Config } from '../domain/config.js';
import { startFakeGitLab, type FakeGitLab } from '../fake-gitlab/server.js';
import { DEFAULT_REQUESTER_SETTINGS } from '../gitlab/requester.js';
import { startService } from '../service/service.js';
import type { ServiceSettings } from '../service/settings.js';
import type { StatusSettings } from '../status/settings.js';

/**
 * `scale-bot demo`: the real server and worker against the embedded fake GitLab on 127.0.0.1.
 * People open requests from the templates (valid, incomplete, out of scope, edited afterwards),
 * GitLab sends its webhooks, and the table shows what the bot did to each issue.
 */

export interface DemoRow {
  iid: number;
  scenario: string;
  author: string;
  state: string;
  assignee: string;
  labels: string;
  botNotes: number;
}

export interface DemoResult {
  rows: DemoRow[];
  violations: string[];
  failedJobs: number;
  webhooks: number;
  apiCalls: number;
  ms: number;
  /** With `open`: the status page, still running until `stop()`. */
  open: DemoPage | null;
}

export interface DemoPage {
  /** Opening it signs in as `manager` through the fake GitLab's OAuth flow and shows the Team page. */
  url: string;
  manager: string;
  stop: () => Promise<void>;
}

interface Scenario {
  name: string;
  author: string;
  file: string;
  segment: string;
  region: string;
  /** Rewrites the sample before it is filed. */
  change?: (text: string) => string;
  /** An edit the author makes after the bot answered. */
  fix?: (text: string) => string;
}

const SCENARIOS: Scenario[] = [
  { name: 'Enterprise, valid', author: 'sam.sal', file: 'ent-amr-valid.md', segment: 'ent', region: 'amr' },
  { name: 'Mid-Market, valid', author: 'alex.ae', file: 'mm-amr-valid.md', segment: 'mm', region: 'amr' },
  {
    name: 'SMB East, missing fields',
    author: 'jordan.ae',
    file: 'smbeast-amr-missing-fields.md',
    segment: 'smb',
    region: 'amr-east',
  },
  {
    name: 'SMB West, public sector',
    author: 'jordan.ae',
    file: 'smbwest-amr-public-sector.md',
    segment: 'smb',
    region: 'amr-west',
  },
  {
    name: 'SMB West, ARR above range',
    author: 'jordan.ae',
    file: 'smbwest-amr-over-range.md',
    segment: 'smb',
    region: 'amr-west',
  },
  {
    name: 'Mid-Market, fixed by an edit',
    author: 'alex.ae',
    file: 'mm-amr-valid.md',
    segment: 'mm',
    region: 'amr',
    change: (t) =>
      t
        .replace('Northwind Traders', 'Contoso Retail')
        .replace('0014M00001lAbCdQAK', '')
        .replace('Jan 31, 2027', '03/04/2027'),
    fix: (t) =>
      t
        .replace('### Salesforce account (required)\n', '### Salesforce account (required)\n0014M00002zYxWvQAK\n')
        .replace('03/04/2027', '2027-04-03'),
  },
  {
    name: 'Customer "/close @all #1"',
    author: 'alex.ae',
    file: 'mm-amr-valid.md',
    segment: 'mm',
    region: 'amr',
    change: (t) => t.replace('Northwind Traders', '/close @all #1').replace('0014M00001lAbCdQAK', '0014M00003aBcDeQAK'),
  },
];

/** Service settings for the bot against a fake GitLab on loopback (the demo, tests, benchmarks). */
export function settingsForFake(
  fake: FakeGitLab,
  dataDir: string,
  overrides: Partial<ServiceSettings> = {},
): ServiceSettings {
  return {
    gitlabUrl: fake.url,
    gitlabToken: fake.botToken,
    webhookSecret: 'demo-secret',
    signingKey: null,
    project: fake.project.path_with_namespace,
    configPath: undefined,
    dataDir,
    host: '127.0.0.1',
    port: 0,
    dryRun: false,
    logLevel: 'silent',
    requester: DEFAULT_REQUESTER_SETTINGS,
    concurrency: 4,
    crm: null,
    durability: 'process',
    queue: { kind: 'sqlite' },
    status: null,
    ...overrides,
  };
}

/** A port nobody listens on now: the status page's public URL (its OAuth redirect URI) must be known before the server starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The status page for `--open`: the service is registered with the fake GitLab as a trusted OAuth
 * application and the demo manager is "signed in to GitLab in the browser", so the page's real
 * sign-in (authorize, code, token, membership check) completes without a click.
 */
async function demoStatusPage(
  fake: FakeGitLab,
  config: Config,
): Promise<{ settings: StatusSettings; manager: string }> {
  const manager = config.people.find((p) => p.roles.includes('manager'))?.username;
  if (!manager) throw new Error('demo --open: the configuration names no manager to sign in as');
  // localhost, not 127.0.0.1: browsers keep Secure cookies from http://localhost (a secure context).
  const publicUrl = `http://localhost:${await freePort()}`;
  const app = fake.addOAuthApplication(`${publicUrl}/auth/callback`, ['read_user'], undefined, true);
  fake.setBrowserUser(manager);
  return {
    settings: { appId: app.id, appSecret: app.secret, publicUrl, sessionSecret: randomBytes(32).toString('hex') },
    manager,
  };
}

type Filed = { iid: number; scenario: Scenario; text: string };

/** The fake GitLab with the forms' labels, and the real service (server and worker) wired to it. */
async function startDemoStack(config: Config, open: boolean) {
  const labels = new Set<string>();
  for (const f of config.forms) {
    labels.add(config.catalog.segmentLabel(f.segment));
    labels.add(config.catalog.regionLabel(f.region));
  }
  const fake = await startFakeGitLab({ labels: [...labels], botUsername: config.bot.username });
  const dataDir = mkdtempSync(join(tmpdir(), 'scale-bot-demo-'));
  const page = open ? await demoStatusPage(fake, config) : null;
  const overrides: Partial<ServiceSettings> = page
    ? { host: 'localhost', port: Number(new URL(page.settings.publicUrl).port), status: page.settings }
    : {};
  const service = await startService(settingsForFake(fake, dataDir, overrides), config, {
    server: true,
    worker: true,
    logger: pino({ level: 'silent' }),
    coalesce: { quietMs: 100, maxWaitMs: 500 },
  });
  fake.setWebhook({ url: `${service.url}/webhooks/gitlab`, token: 'demo-secret' });
  const stop = async () => {
    await service.stop(2_000);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  /** Until the fake has delivered every webhook and the worker has passed every issue, a few rounds deep. */
  const drain = async () => {
    for (let i = 0; i < 3; i++) {
      await fake.settled();
      await service.worker!.idle();
    }
  };
  return { fake, service, page, stop, drain };
}

/** Each scenario filed as its author would, from the sample pasted with the template's quick action. */
async function fileScenarios(fake: FakeGitLab, config: Config, log: (line: string) => void): Promise<Filed[]> {
  const filed: Filed[] = [];
  for (const scenario of SCENARIOS) {
    const sample = readFileSync(join(PACKAGE_ROOT, 'samples', 'requests', scenario.file), 'utf8');
    const text = (scenario.change ?? ((t: string) => t))(sample);
    // As pasted from the template: its quick action labels the issue on creation.
    const description = `${text.trimEnd()}\n\n/label ~"${config.catalog.segmentLabel(scenario.segment)}" ~"${config.catalog.regionLabel(scenario.region)}"\n`;
    const issue = await fake
      .as(scenario.author)
      .createIssue({ title: `Scale engagement request: ${scenario.name}`, description });
    filed.push({ iid: issue.iid, scenario, text });
    log(`#${issue.iid} opened by ${scenario.author}: ${scenario.name}`);
  }
  return filed;
}

/** What each filed issue ended as in the fake GitLab. */
function demoRows(fake: FakeGitLab, config: Config, filed: Filed[]): DemoRow[] {
  const engagement = `${config.labels.engagement}::`;
  return filed.map(({ iid, scenario }) => {
    const issue = fake.issue(iid);
    const state = issue.labels.find((l) => l.startsWith(engagement))?.slice(engagement.length) ?? '—';
    return {
      iid,
      scenario: scenario.name,
      author: scenario.author,
      state,
      assignee: issue.assignees.map((a) => a.username).join(', ') || '—',
      labels: issue.labels.filter((l) => !l.startsWith(engagement)).join(' '),
      botNotes: fake.botNotes(iid).filter((n) => readNoteMarker(n.body) !== null).length,
    };
  });
}

export async function runDemo(
  config: Config,
  log: (line: string) => void,
  options: { open?: boolean } = {},
): Promise<DemoResult> {
  const started = Date.now();
  const { fake, service, page, stop, drain } = await startDemoStack(config, Boolean(options.open));
  log(`fake GitLab on ${fake.url}, scale-bot listening on ${service.url}`);
  let keep = false;
  try {
    const filed = await fileScenarios(fake, config, log);
    await drain();
    for (const f of filed) {
      if (!f.scenario.fix) continue;
      await fake.as(f.scenario.author).editIssue(f.iid, { description: f.scenario.fix(f.text) });
      log(`#${f.iid} edited by ${f.scenario.author} to fix the problems the bot listed`);
    }
    await drain();
    const rows = demoRows(fake, config, filed);
    keep = page !== null;
    return {
      rows,
      violations: [...fake.violations],
      failedJobs: (await service.inbox.list({ failed: true })).length,
      webhooks: fake.deliveries.length,
      apiCalls: fake.callsBy(fake.botUsername).length,
      ms: Date.now() - started,
      open: page ? { url: `${page.settings.publicUrl}/`, manager: page.manager, stop } : null,
    };
  } finally {
    if (!keep) await stop();
  }
}

export function formatDemoTable(rows: DemoRow[]): string {
  const header: DemoRow = {
    iid: 0,
    scenario: 'scenario',
    author: 'author',
    state: 'state',
    assignee: 'assignee',
    labels: 'labels',
    botNotes: 0,
  };
  const cells = (r: DemoRow, isHeader: boolean) => [
    isHeader ? 'issue' : `#${r.iid}`,
    r.scenario,
    r.author,
    r.state,
    r.assignee,
    isHeader ? 'bot notes' : String(r.botNotes),
    r.labels,
  ];
  const all = [cells(header, true), ...rows.map((r) => cells(r, false))];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(all[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}
