import { z } from 'zod';
import type { CrmSettings } from '../crm/crm-sink.js';
import { DEFAULT_REQUESTER_SETTINGS, type RequesterSettings } from '../gitlab/requester.js';
import { DEFAULT_REDIS_INBOX } from '../queue/redis-inbox-options.js';
import type { Durability } from '../queue/sqlite-inbox.js';
import { signingKeyBytes } from '../server/verify.js';
import { readStatusSettings, STATUS_VARIABLES, type StatusSettings } from '../status/settings.js';

/** Settings for `serve`, `worker` and `replay`, read from the environment only (secrets never from files or flags). */
export interface ServiceSettings {
  gitlabUrl: string;
  gitlabToken: string;
  /** Null when only a signing key is set: deliveries are then checked by their signature alone. */
  webhookSecret: string | null;
  signingKey: string | null;
  project: string | number;
  configPath: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  dryRun: boolean;
  logLevel: string;
  requester: RequesterSettings;
  concurrency: number;
  /** The optional CRM sink for CTA records (SCALE_BOT_CRM_URL + SCALE_BOT_CRM_TOKEN). */
  crm: CrmSettings | null;
  /** What an acknowledged delivery survives (SCALE_BOT_DURABILITY): a killed process, or also a power cut. */
  durability: Durability;
  /** The status page's GitLab sign-in; null when not configured (the page then says how to turn it on). */
  status: StatusSettings | null;
  /** Where the inbox lives (SCALE_BOT_QUEUE): the embedded SQLite file, or Redis shared by replicas. */
  queue: QueueSettings;
}

export type QueueSettings =
  | { kind: 'sqlite' }
  | {
      kind: 'redis';
      /** REDIS_URL: may hold a password, never logged. */
      url: string;
      /** SCALE_BOT_REDIS_PREFIX: the replicas of one bot share it; another bot on the same Redis uses its own. */
      prefix: string;
      /** SCALE_BOT_RECONCILE_MINUTES: the in-service sweep's period; 0 turns it off. */
      reconcileMinutes: number;
      /** SCALE_BOT_QUEUE_DASHBOARD: the read-only queue dashboard at /admin/queues, behind the status page's sign-in. */
      dashboard: boolean;
      /**
       * SCALE_BOT_REDIS_LOCK_SECONDS: a pass's lock (BullMQ's job lock and the per-issue lease),
       * renewed every third of it while the pass runs; a dead replica's passes wait this long.
       */
      lockSeconds: number;
    };

/** The shortest pass lock: renewals (every third of it) must not miss it over a slow moment. */
export const MIN_REDIS_LOCK_SECONDS = 5;

const flag = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '' || /^(0|false|no|off)$/i.test(v)) return false;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    ctx.addIssue({ code: 'custom', message: 'use 1/0, true/false, yes/no or on/off' });
    return z.NEVER;
  });

const positiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: 'custom', message: `must be a positive whole number, not "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const envSchema = z.object({
  GITLAB_URL: z.url({ protocol: /^https?$/, message: 'must be the GitLab base URL, e.g. https://gitlab.com' }),
  GITLAB_TOKEN: z.string({ message: 'is required (a token of the bot user with api scope)' }).min(1, 'is empty'),
  GITLAB_WEBHOOK_SECRET: z
    .string({
      message: 'is required (the secret token set on the project webhook), unless GITLAB_WEBHOOK_SIGNING_KEY is set',
    })
    .min(1, 'is empty'),
  GITLAB_WEBHOOK_SIGNING_KEY: z
    .string()
    .optional()
    .refine(
      (key) => key === undefined || decodes(key),
      'decodes to zero bytes: give the signing token as GitLab shows it (base64, optionally after whsec_)',
    ),
  GITLAB_PROJECT: z
    .string({ message: 'is required (the request project id, or its path like group/project)' })
    .regex(/^(\d+|[\w.-]+(\/[\w.-]+)+)$/, 'must be a numeric id or a path like group/project'),
  SCALE_BOT_CONFIG: z.string().optional(),
  SCALE_BOT_DATA: z.string().optional(),
  HOST: z.string().optional(),
  PORT: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 8080;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: 'custom', message: `must be a port number (0-65535), not "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  DRY_RUN: flag,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  GITLAB_REQUESTS_PER_MINUTE: positiveInt(DEFAULT_REQUESTER_SETTINGS.requestsPerMinute),
  GITLAB_NOTES_PER_MINUTE: positiveInt(DEFAULT_REQUESTER_SETTINGS.notesPerMinute),
  GITLAB_SEARCHES_PER_MINUTE: positiveInt(DEFAULT_REQUESTER_SETTINGS.searchesPerMinute),
  // Passes wait on GitLab, not the CPU: 16 keep up with 20 new requests/s at 50 ms per call.
  WORKER_CONCURRENCY: positiveInt(16),
  SCALE_BOT_CRM_URL: z
    .url({ protocol: /^https?$/, message: 'must be the http(s) URL the CTA records are POSTed to' })
    .optional(),
  SCALE_BOT_CRM_TOKEN: z.string().optional(),
  SCALE_BOT_DURABILITY: z
    .enum(['process', 'power'], { message: 'must be process (survives a killed process) or power (also a power cut)' })
    .optional(),
  SCALE_BOT_QUEUE: z
    .enum(['sqlite', 'redis'], { message: 'must be sqlite (one process, the default) or redis (many replicas)' })
    .optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }).optional(),
  SCALE_BOT_REDIS_PREFIX: z
    .string()
    .regex(/^[\w.-]+$/, 'letters, digits, ".", "-" and "_" only')
    .optional(),
  SCALE_BOT_RECONCILE_MINUTES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 60;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number of minutes (0 turns it off), not "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  SCALE_BOT_QUEUE_DASHBOARD: flag,
  SCALE_BOT_REDIS_LOCK_SECONDS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return DEFAULT_REDIS_INBOX.leaseMs / 1000;
      const n = Number(v);
      if (!Number.isInteger(n) || n < MIN_REDIS_LOCK_SECONDS) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a whole number of seconds, at least ${MIN_REDIS_LOCK_SECONDS}, not "${v}"`,
        });
        return z.NEVER;
      }
      return n;
    }),
});

function decodes(key: string): boolean {
  try {
    signingKeyBytes(key);
    return true;
  } catch {
    return false;
  }
}

const crmNeedsToken = (e: { SCALE_BOT_CRM_URL?: string | undefined; SCALE_BOT_CRM_TOKEN?: string | undefined }) =>
  !e.SCALE_BOT_CRM_URL || e.SCALE_BOT_CRM_TOKEN;
const crmTokenProblem = {
  path: ['SCALE_BOT_CRM_TOKEN'],
  message: 'is required when SCALE_BOT_CRM_URL is set (the CRM credentials)',
};
const redisNeedsUrl = (e: { SCALE_BOT_QUEUE?: string | undefined; REDIS_URL?: string | undefined }) =>
  e.SCALE_BOT_QUEUE !== 'redis' || e.REDIS_URL;
const redisUrlProblem = { path: ['REDIS_URL'], message: 'is required when SCALE_BOT_QUEUE is redis' };
const dashboardNeedsRedis = (e: { SCALE_BOT_QUEUE?: string | undefined; SCALE_BOT_QUEUE_DASHBOARD: boolean }) =>
  !e.SCALE_BOT_QUEUE_DASHBOARD || e.SCALE_BOT_QUEUE === 'redis';
const dashboardProblem = {
  path: ['SCALE_BOT_QUEUE_DASHBOARD'],
  message: 'shows the BullMQ queues, so it needs SCALE_BOT_QUEUE=redis (turn it off with the SQLite inbox)',
};
const withSecret = envSchema
  .refine(crmNeedsToken, crmTokenProblem)
  .refine(redisNeedsUrl, redisUrlProblem)
  .refine(dashboardNeedsRedis, dashboardProblem);
/** Signed deliveries need no secret token. */
const signedOnly = envSchema
  .extend({ GITLAB_WEBHOOK_SECRET: envSchema.shape.GITLAB_WEBHOOK_SECRET.optional() })
  .refine(crmNeedsToken, crmTokenProblem)
  .refine(redisNeedsUrl, redisUrlProblem)
  .refine(dashboardNeedsRedis, dashboardProblem);

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Cannot start: ${problems.length} setting(s) missing or invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'SettingsError';
  }
}

/** The queue dashboard is never reachable without sign-in: its jobs name issues and the errors their passes met. */
function unguardedDashboard(env: NodeJS.ProcessEnv, status: ReturnType<typeof readStatusSettings>): string[] {
  const on = flag.safeParse(env.SCALE_BOT_QUEUE_DASHBOARD).data === true;
  return on && status.settings === null && status.problems.length === 0
    ? [`SCALE_BOT_QUEUE_DASHBOARD needs the status page's sign-in: set ${STATUS_VARIABLES.join(', ')}`]
    : [];
}

/** Reads and checks every setting at once; the error names each problem (never a secret's value). */
export function readSettings(env: NodeJS.ProcessEnv, need: { webhook: boolean } = { webhook: true }): ServiceSettings {
  // An empty optional variable means "not set"; an empty required one is reported as empty.
  // The secret token may be left out when deliveries are signed instead.
  const required = new Set([
    'GITLAB_URL',
    'GITLAB_TOKEN',
    'GITLAB_PROJECT',
    ...(env.GITLAB_WEBHOOK_SIGNING_KEY ? [] : ['GITLAB_WEBHOOK_SECRET']),
  ]);
  const set = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => v !== undefined && (v !== '' || required.has(k))),
  );
  const source = need.webhook ? set : { ...set, GITLAB_WEBHOOK_SECRET: set.GITLAB_WEBHOOK_SECRET || '(unused)' };
  const result = (set.GITLAB_WEBHOOK_SIGNING_KEY ? signedOnly : withSecret).safeParse(source);
  const status = readStatusSettings(env);
  const unguarded = unguardedDashboard(env, status);
  if (!result.success || status.problems.length > 0 || unguarded.length > 0) {
    throw new SettingsError([
      ...(result.error?.issues.map((i) => `${String(i.path[0])} ${i.message}`) ?? []),
      ...status.problems,
      ...unguarded,
    ]);
  }
  const e = result.data;
  return {
    gitlabUrl: e.GITLAB_URL.replace(/\/+$/, ''),
    gitlabToken: e.GITLAB_TOKEN,
    webhookSecret: e.GITLAB_WEBHOOK_SECRET ?? null,
    signingKey:
      e.GITLAB_WEBHOOK_SIGNING_KEY && e.GITLAB_WEBHOOK_SIGNING_KEY !== '' ? e.GITLAB_WEBHOOK_SIGNING_KEY : null,
    project: /^\d+$/.test(e.GITLAB_PROJECT) ? Number(e.GITLAB_PROJECT) : e.GITLAB_PROJECT,
    configPath: e.SCALE_BOT_CONFIG,
    dataDir: e.SCALE_BOT_DATA ?? './data',
    host: e.HOST ?? '0.0.0.0',
    port: e.PORT,
    dryRun: e.DRY_RUN,
    logLevel: e.LOG_LEVEL ?? 'info',
    requester: {
      ...DEFAULT_REQUESTER_SETTINGS,
      requestsPerMinute: e.GITLAB_REQUESTS_PER_MINUTE,
      notesPerMinute: e.GITLAB_NOTES_PER_MINUTE,
      searchesPerMinute: e.GITLAB_SEARCHES_PER_MINUTE,
    },
    concurrency: e.WORKER_CONCURRENCY,
    crm: e.SCALE_BOT_CRM_URL
      ? { url: e.SCALE_BOT_CRM_URL, token: e.SCALE_BOT_CRM_TOKEN!, retries: 4, minBackoffMs: 500 }
      : null,
    durability: e.SCALE_BOT_DURABILITY ?? 'process',
    status: status.settings,
    queue:
      e.SCALE_BOT_QUEUE === 'redis'
        ? {
            kind: 'redis',
            url: e.REDIS_URL!,
            prefix: e.SCALE_BOT_REDIS_PREFIX ?? 'scale-bot',
            reconcileMinutes: e.SCALE_BOT_RECONCILE_MINUTES,
            dashboard: e.SCALE_BOT_QUEUE_DASHBOARD,
            lockSeconds: e.SCALE_BOT_REDIS_LOCK_SECONDS,
          }
        : { kind: 'sqlite' },
  };
}
