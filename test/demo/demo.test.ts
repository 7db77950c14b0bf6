import { describe, expect, it } from 'vitest';
import { formatDemoTable, runDemo } from '../../src/demo/demo.js';
import { exampleConfig } from '../helpers/config.js';

describe('scale-bot demo', () => {
  it('files every scenario against the embedded fake GitLab and reports what the bot did', async () => {
    const lines: string[] = [];
    const result = await runDemo(exampleConfig(), (l) => lines.push(l));
    expect(lines[0]).toMatch(
      /^fake GitLab on http:\/\/127\.0\.0\.1:\d+, scale-bot listening on http:\/\/127\.0\.0\.1:\d+$/,
    );
    expect(result.rows.map((r) => [r.scenario, r.state, r.assignee])).toEqual([
      ['Enterprise, valid', 'assigned', 'casey.cse'],
      ['Mid-Market, valid', 'assigned', 'drew.cse'],
      ['SMB East, missing fields', 'needs-info', '—'],
      ['SMB West, public sector', 'not-qualified', '—'],
      ['SMB West, ARR above range', 'not-qualified', '—'],
      // drew.cse already holds #2, so least-loaded picks casey.cse.
      ['Mid-Market, fixed by an edit', 'assigned', 'casey.cse'],
      ['Customer "/close @all #1"', 'assigned', 'drew.cse'],
    ]);
    // One request note each; the fixed one also got the CSE's assignment note.
    expect(result.rows.map((r) => r.botNotes)).toEqual([1, 1, 1, 1, 1, 2, 1]);
    expect(result.violations).toEqual([]);
    expect(result.failedJobs).toBe(0);
    const table = formatDemoTable(result.rows);
    expect(table.split('\n')).toHaveLength(2 + result.rows.length);
    expect(table).toContain('form::mm_amr');
  }, 60_000);
});
