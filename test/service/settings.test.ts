import { describe, expect, it } from 'vitest';
import { DEFAULT_REQUESTER_SETTINGS } from '../../src/gitlab/requester.js';
import { readSettings, SettingsError } from '../../src/service/settings.js';

const TOKEN = 'glpat-SECRET123';
const BASE: NodeJS.ProcessEnv = {
  GITLAB_URL: 'https://gitlab.example.com/',
  GITLAB_TOKEN: TOKEN,
  GITLAB_WEBHOOK_SECRET: 'hook-secret',
  GITLAB_PROJECT: 'sales/scale-engagement-requests',
};

/** The problems `readSettings` reports for BASE with `change` applied (undefined removes a variable). */
function problems(change: NodeJS.ProcessEnv, need?: { webhook: boolean }): string[] {
  const env: NodeJS.ProcessEnv = { ...BASE };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  try {
    readSettings(env, need);
  } catch (err) {
    if (err instanceof SettingsError) return err.problems;
    throw err;
  }
  return [];
}

describe('readSettings', () => {
  it('fills every default around the four required variables', () => {
    expect(readSettings(BASE)).toEqual({
      gitlabUrl: 'https://gitlab.example.com',
      gitlabToken: TOKEN,
      webhookSecret: 'hook-secret',
      signingKey: null,
      project: 'sales/scale-engagement-requests',
      configPath: undefined,
      dataDir: './data',
      host: '0.0.0.0',
      port: 8080,
      dryRun: false,
      logLevel: 'info',
      requester: DEFAULT_REQUESTER_SETTINGS,
      concurrency: 16,
      crm: null,
      durability: 'process',
      status: null,
      queue: { kind: 'sqlite' },
    });
  });

  it('reads the Redis queue settings, and wants REDIS_URL with SCALE_BOT_QUEUE=redis', () => {
    expect(
      readSettings({
        ...BASE,
        SCALE_BOT_QUEUE: 'redis',
        REDIS_URL: 'redis://:secret@redis.internal:6379/2',
        SCALE_BOT_REDIS_PREFIX: 'bot-a',
        SCALE_BOT_RECONCILE_MINUTES: '0',
        SCALE_BOT_REDIS_LOCK_SECONDS: '10',
      }).queue,
    ).toEqual({
      kind: 'redis',
      url: 'redis://:secret@redis.internal:6379/2',
      prefix: 'bot-a',
      reconcileMinutes: 0,
      dashboard: false,
      lockSeconds: 10,
    });
    expect(readSettings({ ...BASE, SCALE_BOT_QUEUE: 'redis', REDIS_URL: 'redis://r:6379' }).queue).toMatchObject({
      prefix: 'scale-bot',
      reconcileMinutes: 60,
      lockSeconds: 30,
    });
    expect(() => readSettings({ ...BASE, SCALE_BOT_QUEUE: 'redis' })).toThrow(/REDIS_URL is required/);
    expect(() => readSettings({ ...BASE, SCALE_BOT_QUEUE: 'kafka' })).toThrow(/SCALE_BOT_QUEUE must be sqlite/);
    expect(() => readSettings({ ...BASE, SCALE_BOT_QUEUE: 'redis', REDIS_URL: 'http://r' })).toThrow(
      /REDIS_URL must be/,
    );
  });

  it('SCALE_BOT_REDIS_LOCK_SECONDS: whole seconds, at least 5 (renewals every third of it must not miss it)', () => {
    const redis = { ...BASE, SCALE_BOT_QUEUE: 'redis', REDIS_URL: 'redis://r:6379' };
    expect(readSettings({ ...redis, SCALE_BOT_REDIS_LOCK_SECONDS: '5' }).queue).toMatchObject({ lockSeconds: 5 });
    for (const bad of ['4', '0', '-30', '7.5', 'ten'])
      expect(() => readSettings({ ...redis, SCALE_BOT_REDIS_LOCK_SECONDS: bad })).toThrow(
        `SCALE_BOT_REDIS_LOCK_SECONDS must be a whole number of seconds, at least 5, not "${bad}"`,
      );
  });

  it('reads every optional variable', () => {
    const s = readSettings({
      ...BASE,
      GITLAB_URL: 'https://gitlab.example.com/gitlab//',
      GITLAB_WEBHOOK_SIGNING_KEY: 'whsec_abc',
      SCALE_BOT_CONFIG: 'conf/bot.yml',
      SCALE_BOT_DATA: '/var/lib/scale-bot',
      HOST: '127.0.0.1',
      PORT: '0',
      DRY_RUN: '1',
      LOG_LEVEL: 'debug',
      GITLAB_REQUESTS_PER_MINUTE: '600',
      GITLAB_NOTES_PER_MINUTE: '30',
      GITLAB_SEARCHES_PER_MINUTE: '20',
      WORKER_CONCURRENCY: '2',
      SCALE_BOT_DURABILITY: 'power',
    });
    expect(s).toMatchObject({
      durability: 'power',
      gitlabUrl: 'https://gitlab.example.com/gitlab',
      signingKey: 'whsec_abc',
      configPath: 'conf/bot.yml',
      dataDir: '/var/lib/scale-bot',
      host: '127.0.0.1',
      port: 0,
      dryRun: true,
      logLevel: 'debug',
      requester: { ...DEFAULT_REQUESTER_SETTINGS, requestsPerMinute: 600, notesPerMinute: 30, searchesPerMinute: 20 },
      concurrency: 2,
    });
  });

  it.each([
    // Empty means unset for these: the default applies.
    ['PORT', '', 'port', 8080],
    ['GITLAB_REQUESTS_PER_MINUTE', '', 'requester', expect.objectContaining({ requestsPerMinute: 2000 })],
    ['WORKER_CONCURRENCY', '', 'concurrency', 16],
    ['GITLAB_WEBHOOK_SIGNING_KEY', '', 'signingKey', null],
  ] as const)('%s=%j gives the default', (name, value, key, expected) => {
    expect(readSettings({ ...BASE, [name]: value })[key]).toEqual(expected);
  });

  it.each([
    ['GITLAB_URL', undefined, 'GITLAB_URL must be the GitLab base URL, e.g. https://gitlab.com'],
    ['GITLAB_URL', 'gitlab.example.com', 'GITLAB_URL must be the GitLab base URL, e.g. https://gitlab.com'],
    ['GITLAB_URL', '', 'GITLAB_URL must be the GitLab base URL, e.g. https://gitlab.com'],
    ['GITLAB_TOKEN', undefined, 'GITLAB_TOKEN is required (a token of the bot user with api scope)'],
    ['GITLAB_TOKEN', '', 'GITLAB_TOKEN is empty'],
    [
      'GITLAB_WEBHOOK_SECRET',
      undefined,
      'GITLAB_WEBHOOK_SECRET is required (the secret token set on the project webhook), unless GITLAB_WEBHOOK_SIGNING_KEY is set',
    ],
    ['GITLAB_WEBHOOK_SECRET', '', 'GITLAB_WEBHOOK_SECRET is empty'],
    [
      'GITLAB_PROJECT',
      undefined,
      'GITLAB_PROJECT is required (the request project id, or its path like group/project)',
    ],
    ['GITLAB_PROJECT', 'project', 'GITLAB_PROJECT must be a numeric id or a path like group/project'],
    ['GITLAB_PROJECT', 'group/', 'GITLAB_PROJECT must be a numeric id or a path like group/project'],
    [
      'GITLAB_PROJECT',
      'https://gitlab.com/group/project',
      'GITLAB_PROJECT must be a numeric id or a path like group/project',
    ],
    ['PORT', 'http', 'PORT must be a port number (0-65535), not "http"'],
    ['PORT', '65536', 'PORT must be a port number (0-65535), not "65536"'],
    ['PORT', '-1', 'PORT must be a port number (0-65535), not "-1"'],
    ['PORT', '80.5', 'PORT must be a port number (0-65535), not "80.5"'],
    ['DRY_RUN', 'maybe', 'DRY_RUN use 1/0, true/false, yes/no or on/off'],
    [
      'LOG_LEVEL',
      'verbose',
      'LOG_LEVEL Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"',
    ],
    ['GITLAB_REQUESTS_PER_MINUTE', '0', 'GITLAB_REQUESTS_PER_MINUTE must be a positive whole number, not "0"'],
    ['GITLAB_NOTES_PER_MINUTE', '1.5', 'GITLAB_NOTES_PER_MINUTE must be a positive whole number, not "1.5"'],
    ['WORKER_CONCURRENCY', 'four', 'WORKER_CONCURRENCY must be a positive whole number, not "four"'],
  ])('%s=%j: %s', (name, value, message) => {
    expect(problems({ [name]: value })).toEqual([message]);
  });

  // `new URL()` accepts `host:port` as a URL whose scheme is the host name; the bot then cannot
  // reach GitLab and retries forever instead of refusing to start (README: "A missing or invalid
  // one stops start-up").
  it.each(['gitlab.example.com:8443', 'ftp://gitlab.example.com', 'mailto:bot@example.com'])(
    'GITLAB_URL=%j is not an http(s) base URL and stops start-up',
    (url) => {
      expect(problems({ GITLAB_URL: url })).toEqual([
        'GITLAB_URL must be the GitLab base URL, e.g. https://gitlab.com',
      ]);
    },
  );

  it('names every problem at once, in one message', () => {
    let error: unknown;
    try {
      readSettings({ GITLAB_TOKEN: TOKEN, PORT: 'x', DRY_RUN: 'y' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SettingsError);
    const { message, problems: found } = error as SettingsError;
    expect(found.map((p) => p.split(' ')[0])).toEqual([
      'GITLAB_URL',
      'GITLAB_WEBHOOK_SECRET',
      'GITLAB_PROJECT',
      'PORT',
      'DRY_RUN',
    ]);
    expect(message).toBe(`Cannot start: 5 setting(s) missing or invalid:\n${found.map((p) => `  - ${p}`).join('\n')}`);
  });

  it.each([
    ['1', true],
    ['true', true],
    ['TRUE', true],
    ['yes', true],
    ['On', true],
    ['0', false],
    ['false', false],
    ['No', false],
    ['off', false],
    ['', false],
    [undefined, false],
  ])('DRY_RUN=%j is %s', (value, expected) => {
    const env = { ...BASE };
    if (value !== undefined) env.DRY_RUN = value;
    expect(readSettings(env).dryRun).toBe(expected);
  });

  it.each([
    ['42', 42],
    ['sales/scale-engagement-requests', 'sales/scale-engagement-requests'],
    ['group/sub.group/my_project-2', 'group/sub.group/my_project-2'],
  ])('GITLAB_PROJECT=%j is %j', (value, expected) => {
    expect(readSettings({ ...BASE, GITLAB_PROJECT: value }).project).toEqual(expected);
  });

  it('need: { webhook: false } (worker, replay) does without the webhook secret, and keeps it when given', () => {
    const { GITLAB_WEBHOOK_SECRET: _secret, ...withoutSecret } = BASE;
    expect(() => readSettings(withoutSecret)).toThrow(SettingsError);
    expect(readSettings(withoutSecret, { webhook: false }).gitlabToken).toBe(TOKEN);
    expect(readSettings(BASE, { webhook: false }).webhookSecret).toBe('hook-secret');
    expect(problems({ GITLAB_WEBHOOK_SECRET: undefined, GITLAB_PROJECT: undefined }, { webhook: false })).toEqual([
      'GITLAB_PROJECT is required (the request project id, or its path like group/project)',
    ]);
  });

  it.each(['whsec_', 'whsec_===', '==='])(
    'refuses a signing key that decodes to zero bytes (%j), naming the variable, never its value',
    (key) => {
      expect(() => readSettings({ ...BASE, GITLAB_WEBHOOK_SIGNING_KEY: key })).toThrow(
        /GITLAB_WEBHOOK_SIGNING_KEY decodes to zero bytes/,
      );
    },
  );

  it('refuses an unknown SCALE_BOT_DURABILITY', () => {
    expect(() => readSettings({ ...BASE, SCALE_BOT_DURABILITY: 'disk' })).toThrow(
      /SCALE_BOT_DURABILITY must be process .* or power/,
    );
  });

  it('a signing key may stand in for the secret token: deliveries are then checked by signature alone', () => {
    const { GITLAB_WEBHOOK_SECRET: _secret, ...withoutSecret } = BASE;
    for (const secret of [undefined, '']) {
      const s = readSettings({
        ...withoutSecret,
        GITLAB_WEBHOOK_SECRET: secret,
        GITLAB_WEBHOOK_SIGNING_KEY: 'whsec_a2V5',
      });
      expect(s).toMatchObject({ webhookSecret: null, signingKey: 'whsec_a2V5' });
    }
    expect(readSettings({ ...BASE, GITLAB_WEBHOOK_SIGNING_KEY: 'whsec_a2V5' })).toMatchObject({
      webhookSecret: 'hook-secret',
      signingKey: 'whsec_a2V5',
    });
  });

  it.each<[string, NodeJS.ProcessEnv]>([
    ['an invalid URL', { ...BASE, GITLAB_URL: 'not a url' }],
    [
      'every other variable invalid',
      {
        GITLAB_TOKEN: TOKEN,
        GITLAB_URL: '::',
        GITLAB_PROJECT: '?',
        PORT: 'p',
        DRY_RUN: 'd',
        LOG_LEVEL: 'l',
        WORKER_CONCURRENCY: '-1',
      },
    ],
    [
      'the token inside the URL',
      { ...BASE, GITLAB_URL: `gitlab.example.com?private_token=${TOKEN}`, GITLAB_PROJECT: '' },
    ],
  ])('the message never contains the token (%s)', (_what, env) => {
    let message = '';
    try {
      readSettings(env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Cannot start: /);
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain('SECRET123');
  });
});

describe('readSettings: empty optional variables', () => {
  const base = {
    GITLAB_URL: 'https://gitlab.example.com',
    GITLAB_TOKEN: 't',
    GITLAB_WEBHOOK_SECRET: 's',
    GITLAB_PROJECT: 'sales/requests',
  };
  it('an empty SCALE_BOT_DATA or HOST falls back to the default', () => {
    const s = readSettings({ ...base, SCALE_BOT_DATA: '', HOST: '' });
    expect(s.dataDir).toBe('./data');
    expect(s.host).toBe('0.0.0.0');
  });
  it('worker and replay ignore an empty webhook secret', () => {
    expect(readSettings({ ...base, GITLAB_WEBHOOK_SECRET: '' }, { webhook: false }).webhookSecret).toBe('(unused)');
  });
});

describe('readSettings: the CRM sink', () => {
  const base = {
    GITLAB_URL: 'https://gitlab.example.com',
    GITLAB_TOKEN: 't',
    GITLAB_WEBHOOK_SECRET: 's',
    GITLAB_PROJECT: 'sales/requests',
  };
  it('is off by default and on with a URL and a token', () => {
    expect(readSettings(base).crm).toBeNull();
    expect(
      readSettings({ ...base, SCALE_BOT_CRM_URL: 'https://crm.example.com/ctas', SCALE_BOT_CRM_TOKEN: 'crm-secret' })
        .crm,
    ).toMatchObject({
      url: 'https://crm.example.com/ctas',
      token: 'crm-secret',
    });
  });
  it('needs the token with the URL, and never prints it', () => {
    expect(() => readSettings({ ...base, SCALE_BOT_CRM_URL: 'https://crm.example.com/ctas' })).toThrow(
      /SCALE_BOT_CRM_TOKEN is required when SCALE_BOT_CRM_URL is set/,
    );
    expect(() => readSettings({ ...base, SCALE_BOT_CRM_URL: 'ftp://x', SCALE_BOT_CRM_TOKEN: 'crm-secret' })).toThrow(
      /SCALE_BOT_CRM_URL/,
    );
  });
});

describe('readSettings: the status page sign-in', () => {
  const base = {
    GITLAB_URL: 'https://gitlab.example.com',
    GITLAB_TOKEN: 't',
    GITLAB_WEBHOOK_SECRET: 's',
    GITLAB_PROJECT: 'sales/requests',
  };
  const full = {
    SCALE_BOT_OAUTH_APP_ID: 'app-id',
    SCALE_BOT_OAUTH_SECRET: 'gloas-very-secret',
    SCALE_BOT_PUBLIC_URL: 'https://scale-bot.example.com/',
    SCALE_BOT_SESSION_SECRET: 'x'.repeat(32),
  };
  it('is off with none of the four set, on with all of them', () => {
    expect(readSettings(base).status).toBeNull();
    expect(readSettings({ ...base, ...full }).status).toEqual({
      appId: 'app-id',
      appSecret: 'gloas-very-secret',
      publicUrl: 'https://scale-bot.example.com',
      sessionSecret: 'x'.repeat(32),
    });
  });
  it('names what is missing or too weak, never a value', () => {
    let problems: string[] = [];
    try {
      readSettings({ ...base, SCALE_BOT_OAUTH_SECRET: 'gloas-very-secret', SCALE_BOT_SESSION_SECRET: 'short' });
    } catch (err) {
      problems = (err as SettingsError).problems;
    }
    expect(problems).toEqual([
      expect.stringMatching(/^SCALE_BOT_OAUTH_APP_ID is required for the status page/),
      expect.stringMatching(/^SCALE_BOT_PUBLIC_URL is required for the status page/),
      'SCALE_BOT_SESSION_SECRET must be at least 32 characters (e.g. openssl rand -hex 32)',
    ]);
    expect(problems.join('\n')).not.toContain('gloas-very-secret');
  });
  it('turns the queue dashboard on only with Redis and the sign-in (off by default)', () => {
    const onRedis = { SCALE_BOT_QUEUE: 'redis', REDIS_URL: 'redis://r:6379' };
    const redis = { ...base, ...onRedis };
    expect(readSettings({ ...redis, ...full }).queue).toMatchObject({ dashboard: false });
    expect(readSettings({ ...redis, ...full, SCALE_BOT_QUEUE_DASHBOARD: 'on' }).queue).toMatchObject({
      dashboard: true,
    });
    expect(readSettings({ ...redis, ...full, SCALE_BOT_QUEUE_DASHBOARD: 'off' }).queue).toMatchObject({
      dashboard: false,
    });
    expect(problems({ ...onRedis, SCALE_BOT_QUEUE_DASHBOARD: 'on' })).toEqual([
      "SCALE_BOT_QUEUE_DASHBOARD needs the status page's sign-in: set SCALE_BOT_OAUTH_APP_ID, SCALE_BOT_OAUTH_SECRET, SCALE_BOT_PUBLIC_URL, SCALE_BOT_SESSION_SECRET",
    ]);
    expect(problems({ ...full, SCALE_BOT_QUEUE_DASHBOARD: 'yes' })).toEqual([
      'SCALE_BOT_QUEUE_DASHBOARD shows the BullMQ queues, so it needs SCALE_BOT_QUEUE=redis (turn it off with the SQLite inbox)',
    ]);
    expect(problems({ ...onRedis, ...full, SCALE_BOT_QUEUE_DASHBOARD: 'maybe' })).toEqual([
      'SCALE_BOT_QUEUE_DASHBOARD use 1/0, true/false, yes/no or on/off',
    ]);
  });
});
