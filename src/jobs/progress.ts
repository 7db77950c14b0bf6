import cliProgress from 'cli-progress';
import type { Logger } from 'pino';

/**
 * Progress of a long read: a bar on stderr when a person watches a terminal, plain log lines
 * otherwise (CI logs would fill with carriage returns).
 */
export interface Progress {
  /** The expected number of issues, when GitLab says (it stops counting past 10,000). */
  total: (issues: number) => void;
  advance: (issues: number, requests: number) => void;
  done: (requests: number) => void;
}

/** `terminal`: stderr when it is a terminal, else null. */
export function createProgress(what: string, terminal: NodeJS.WriteStream | null, logger: Logger): Progress {
  return terminal ? barProgress(what, terminal) : logProgress(what, logger);
}

function barProgress(what: string, stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${what} [{bar}] {value}/{total} issues, {requests} requests`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let seen = 0;
  let expected = 0;
  bar.start(0, 0, { requests: 0 });
  return {
    total: (n) => {
      expected = n;
      bar.setTotal(n);
    },
    advance: (n, requests) => {
      seen += n;
      // Unknown total (past 10,000): the bar keeps pace with what was read.
      if (seen > expected) bar.setTotal(seen);
      bar.update(seen, { requests });
    },
    done: () => bar.stop(),
  };
}

/** A line per 1,000 issues read (and at the end): enough to see a CI job move. */
function logProgress(what: string, logger: Logger): Progress {
  let seen = 0;
  let expected: number | null = null;
  let logged = 0;
  return {
    total: (n) => {
      expected = n;
    },
    advance: (n, requests) => {
      seen += n;
      if (seen - logged >= 1000) {
        logged = seen;
        logger.info({ issues: seen, of: expected, requests }, `${what}: reading issues`);
      }
    },
    done: (requests) => logger.info({ issues: seen, requests }, `${what}: read every issue`),
  };
}
