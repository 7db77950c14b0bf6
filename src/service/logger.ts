import pino, { type Logger } from 'pino';

/** Logs to stdout by default; commands whose stdout is their output log to stderr (fd 2). */
export function createLogger(level: string, fd: 1 | 2 = 1): Logger {
  // Secrets never reach the logger, and these paths are redacted should one ever be passed along.
  const options = {
    level,
    redact: ['token', '*.token', 'headers["private-token"]', 'headers["x-gitlab-token"]', 'headers.authorization'],
  };
  return fd === 1 ? pino(options) : pino(options, pino.destination({ fd, sync: true }));
}
