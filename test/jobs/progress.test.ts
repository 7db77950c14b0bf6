import { PassThrough, Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/jobs/progress.js';

function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe('progress', () => {
  it('without a terminal (CI): a log line per 1,000 issues read and one at the end, no escape codes', async () => {
    const { logger, lines } = captureLogger();
    const p = createProgress('report', null, logger);
    p.total(2500);
    p.advance(600, 500);
    p.advance(600, 1000);
    p.advance(900, 1800);
    p.advance(400, 2200);
    p.done(2200);
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.msg, l.issues, l.of ?? null, l.requests])).toEqual([
      ['report: reading issues', 1200, 2500, 1000],
      ['report: reading issues', 2500, 2500, 2200],
      ['report: read every issue', 2500, null, 2200],
    ]);
  });

  it('on a terminal: a bar on that stream that keeps up when GitLab gives no total', () => {
    const { logger, lines } = captureLogger();
    const out = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 100,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    let text = '';
    out.on('data', (d) => (text += String(d)));
    const p = createProgress('report', out as unknown as NodeJS.WriteStream, logger);
    p.advance(100, 80);
    p.advance(100, 170);
    p.done(170);
    expect(text).toMatch(/report \[.*\] 200\/200 issues, 170 requests/);
    expect(lines).toEqual([]);
  });
});
