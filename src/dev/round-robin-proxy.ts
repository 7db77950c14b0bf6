import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A load balancer in front of replicas, for tests and benchmarks: each request goes to the next
 * target in turn; a target that refuses the connection (a killed replica) is skipped, as a load
 * balancer's health check would. Not shipped (dist/dev is left out of the package).
 */
export interface RoundRobinProxy {
  url: string;
  /** Replaces the targets (a replica restarted on a new port). */
  setTargets(targets: string[]): void;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(initial: string[]): Promise<RoundRobinProxy> {
  let targets = [...initial];
  let next = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const attempt = (left: number) => {
        if (targets.length === 0 || left === 0) {
          res.writeHead(502).end('no replica answered');
          return;
        }
        const target = new URL(req.url ?? '/', targets[next++ % targets.length]);
        const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        // Refused before anything was sent: the next replica may take it. Anything later is the
        // load balancer's 502, as GitLab would see it.
        upstream.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'ECONNREFUSED' && !res.headersSent) attempt(left - 1);
          else if (!res.headersSent) res.writeHead(502).end(err.message);
          else res.destroy();
        });
        upstream.end(body);
      };
      attempt(targets.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setTargets(t) {
      targets = [...t];
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
