import { z } from 'zod';

/** The status page's sign-in, from the environment only (the secrets never from files or flags). */
export interface StatusSettings {
  /** The GitLab OAuth application's id and secret. */
  appId: string;
  appSecret: string;
  /** Where people reach the page, e.g. `https://scale-bot.example.com` (the callback is `<publicUrl>/auth/callback`). */
  publicUrl: string;
  /** Signs the session cookies. */
  sessionSecret: string;
}

export const STATUS_VARIABLES = [
  'SCALE_BOT_OAUTH_APP_ID',
  'SCALE_BOT_OAUTH_SECRET',
  'SCALE_BOT_PUBLIC_URL',
  'SCALE_BOT_SESSION_SECRET',
] as const;

const schema = z.object({
  SCALE_BOT_OAUTH_APP_ID: z.string().min(1, 'is empty'),
  SCALE_BOT_OAUTH_SECRET: z.string().min(1, 'is empty'),
  SCALE_BOT_PUBLIC_URL: z.url({
    protocol: /^https?$/,
    message: 'must be the URL people open the page at, e.g. https://scale-bot.example.com',
  }),
  SCALE_BOT_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)'),
});

/**
 * Null when none of the four is set (the page is then off and says how to turn it on); problems
 * (named, never with a value) when only some are set or one is invalid.
 */
export function readStatusSettings(env: NodeJS.ProcessEnv): { settings: StatusSettings | null; problems: string[] } {
  const set = STATUS_VARIABLES.filter((k) => env[k] !== undefined && env[k] !== '');
  if (set.length === 0) return { settings: null, problems: [] };
  const result = schema.safeParse(
    Object.fromEntries(STATUS_VARIABLES.map((k) => [k, env[k] === '' ? undefined : env[k]])),
  );
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const name = String(i.path[0]);
      return env[name] === undefined || env[name] === ''
        ? `${name} is required for the status page (set all of ${STATUS_VARIABLES.join(', ')}, or none)`
        : `${name} ${i.message}`;
    });
    return { settings: null, problems };
  }
  const e = result.data;
  return {
    settings: {
      appId: e.SCALE_BOT_OAUTH_APP_ID,
      appSecret: e.SCALE_BOT_OAUTH_SECRET,
      publicUrl: e.SCALE_BOT_PUBLIC_URL.replace(/\/+$/, ''),
      sessionSecret: e.SCALE_BOT_SESSION_SECRET,
    },
    problems: [],
  };
}
