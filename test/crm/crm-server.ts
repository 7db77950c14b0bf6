import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CrmRequest {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A stand-in CRM on 127.0.0.1: answers from a script of statuses, then 201 with an id per key. */
export async function startCrm(
  script: number[] = [],
): Promise<{ url: string; requests: CrmRequest[]; records: Map<string, string>; stop: () => Promise<void> }> {
  const requests: CrmRequest[] = [];
  const records = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: JSON.parse(raw || 'null') });
      const status = script.shift();
      if (status !== undefined) {
        res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"scripted"}');
        return;
      }
      // Idempotent like a careful CRM: the same key gets the same record.
      const key = String(req.headers['idempotency-key']);
      if (!records.has(key)) records.set(key, `CTA-${records.size + 1}`);
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: records.get(key) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ctas`,
    requests,
    records,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
