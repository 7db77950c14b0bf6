import { describe, expect, it } from 'vitest';
import { ZWSP } from '../../src/domain/markdown-safety.js';
import { buildReport, type Report } from '../../src/domain/report.js';
import { periodOf } from '../../src/domain/report-period.js';
import type { RequestHistory } from '../../src/domain/request-history.js';
import { CSV_HEADER, csvCell, MAX_ROWS, renderReport, safeUrl } from '../../src/render/report.js';
import { weekendsOnlyConfig } from '../helpers/config.js';
import { historyFixture } from '../helpers/request-history.js';

const NOW = new Date('2026-12-03T12:00:00Z');
const NOVEMBER = periodOf('month', NOW);
const config = weekendsOnlyConfig();

function req(p: Partial<RequestHistory> & Pick<RequestHistory, 'iid' | 'createdAt'>): RequestHistory {
  return historyFixture({ form: { id: 'ent_amr', version: 1 }, segment: 'ent', ...p });
}

const HOSTILE_TITLE = '/close @all #1';
const HISTORY: RequestHistory[] = [
  // Completed: assign 2 h, accept 25 h, complete 192 h.
  req({
    iid: 1,
    createdAt: '2026-11-02T14:00:00Z',
    open: false,
    closedAt: '2026-11-10T14:00:00Z',
    assignees: ['casey.cse'],
    state: 'completed',
    stateSince: '2026-11-10T14:00:00Z',
    reached: { assigned: '2026-11-02T16:00:00Z', accepted: '2026-11-03T15:00:00Z', completed: '2026-11-10T14:00:00Z' },
  }),
  // Limit reached Fri 20 Nov 15:30Z, never answered: due Tue 24 Nov 15:30Z; at the end of November
  // (Mon 30 19:00 New York) 4 business days (Wed 25 .. Mon 30) and 152.5 h = 6.4 d late; waited
  // 248.5 h = 10.4 d.
  // Everything a person typed is hostile.
  req({
    iid: 5,
    title: HOSTILE_TITLE,
    createdAt: '2026-11-20T15:00:00Z',
    updatedAt: '2026-11-20T15:30:00Z',
    customer: '@all | `Acme` <b>#2</b>',
    renewalDate: '2027-01-15',
    atRisk: true,
    assignees: ['casey.cse'],
    state: 'limit-reached',
    stateSince: '2026-11-20T15:30:00Z',
    reached: { 'limit-reached': '2026-11-20T15:30:00Z' },
    problems: ['/label ~"urgent" @casey.cse'],
  }),
  req({
    iid: 6,
    form: { id: 'smbeast_amr', version: 1 },
    segment: 'smb',
    region: 'amr-east',
    title: 'Line one\n/close\n@all',
    createdAt: '2026-11-24T12:00:00Z',
    updatedAt: '2026-12-01T12:00:00Z',
    state: 'not-qualified',
    stateSince: '2026-11-24T12:01:00Z',
    reached: { 'not-qualified': '2026-11-24T12:01:00Z' },
    notQualified: ['Public sector | out of scope'],
    problems: ['Customer name: missing'],
  }),
];

const report = buildReport(HISTORY, NOVEMBER, config, NOW);
const { markdown, json, csv } = renderReport(report);

/** The bodies of the ```mermaid fences. */
function mermaidBlocks(md: string): string[] {
  return [...md.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)].map((m) => m[1]!);
}

/** A minimal RFC 4180 reader, to check the writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  const endRow = () => {
    endCell();
    rows.push(row);
    row = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted && c === '"') quoted = false;
    else if (quoted) cell += c;
    else if (c === '"') quoted = true;
    else if (c === ',') endCell();
    else if (c === '\r' && text[i + 1] === '\n') {
      endRow();
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) endRow();
  return rows;
}

describe('renderReport: markdown', () => {
  it('has a heading and the period', () => {
    expect(markdown.startsWith('## Scale engagement report 2026-11\n')).toBe(true);
    expect(markdown).toContain(
      'Period **2026-11**: from 2026-11-01 00:00 UTC up to (not including) 2026-12-01 00:00 UTC.',
    );
  });

  it('has the count tables', () => {
    expect(markdown).toContain('3 requests were opened in this period.');
    expect(markdown).toContain(
      '| Segment | Id | Requests |\n|---|---|---:|\n| Enterprise | ent | 2 |\n| Mid-Market | mm | 0 |\n| SMB | smb | 1 |',
    );
    expect(markdown).toContain('| AMER | amr | 2 |\n| AMER East | amr-east | 1 |\n| AMER West | amr-west | 0 |');
    expect(markdown).toContain('| Scale Engagement Request — Enterprise, AMER | ent_amr | 1 | 2 |');
    expect(markdown).toContain('| Scale Engagement Request — SMB East, AMER | smbeast_amr | 1 | 1 |');
  });

  it('has the funnel, the durations with the percentile footnote, and the CSE table', () => {
    expect(markdown).toContain('| Assigned (incl. limit reached) | 2 | 1 |');
    expect(markdown).toContain('| Not qualified | 1 | 1 |');
    expect(markdown).toContain('Still open: **2** of 3.');
    // Assign: 2 h and 0.5 h → median 1.25 (shown to one decimal: 1.3 h), p90 rank 2 → 2 h.
    // Durations of a day or more in days: accept 25 h = 1.04 d → 1 d; complete 192 h = 8 d.
    expect(markdown).toContain('| Time to assign | 2 | 1.3 h | 2 h |');
    expect(markdown).toContain('| Time to accept | 1 | 1 d | 1 d |');
    expect(markdown).toContain('| Time to complete | 1 | 8 d | 8 d |');
    expect(markdown).not.toMatch(/\d{3} h/);
    expect(markdown).toContain(
      '[^durations]: Median: the middle value, or the mean of the two middle values for an even count. p90: nearest rank',
    );
    expect(markdown).toContain('| Casey Kim (casey.cse) | 1 | 1 |');
    expect(markdown).toContain('| Gray Okafor (gray.cse) | 0 | 0 |');
  });

  it('lists breaches, problems, reasons and at-risk requests with links by URL', () => {
    const link5 = `[\\/close @${ZWSP}all #${ZWSP}1](https://gitlab.example/sales/requests/-/issues/5)`;
    expect(markdown).toContain(
      `| Accept | ${link5} | 2026-11-24 15:30 UTC | 4 business days (6.4 d) | 10.4 d | open at the end of the period |`,
    );
    // The Markdown says what each service level is.
    expect(markdown).toContain(
      '- **Accept**: an assigned request is accepted or declined within 2 business days of its assignment.',
    );
    expect(markdown).toContain(
      'every 10 business days. Requests waiting on their author or not qualified are not counted.',
    );
    expect(markdown).toContain(
      `| ${link5} | @${ZWSP}all \\| \\\`Acme\\\` &lt;b>#${ZWSP}2&lt;/b> | 2027-01-15 | flagged at risk, renewal in 43 days | casey.cse |`,
    );
    expect(markdown).toContain(`| \\/label ~${ZWSP}"urgent" @${ZWSP}casey.cse | 1 |`);
    expect(markdown).toContain('| Public sector \\| out of scope | 1 |');
    expect(markdown).toContain('| Customer name: missing | 1 |');
  });

  it('renders valid Mermaid: an outcome pie and a bar chart per segment with requests', () => {
    const blocks = mermaidBlocks(markdown);
    expect(blocks).toHaveLength(3);
    expect(markdown.match(/^```/gm)).toHaveLength(6); // every fence closed
    expect(blocks[0]).toBe(
      [
        'pie showData',
        '    title Outcomes of requests opened in 2026-11',
        '    "not-qualified" : 1',
        '    "limit-reached" : 1',
        '    "completed" : 1',
      ].join('\n'),
    );
    expect(blocks[1]).toBe(
      [
        'xychart-beta',
        '    title "Enterprise: requests opened per week"',
        '    x-axis ["2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49"]',
        '    y-axis "Requests" 0 --> 1',
        '    bar [0, 1, 0, 1, 0, 0]',
      ].join('\n'),
    );
    expect(blocks[2]).toContain('title "SMB: requests opened per week"');
    expect(blocks[2]).toContain('bar [0, 0, 0, 0, 1, 0]');
    for (const b of blocks.slice(1)) {
      const lines = b.split('\n');
      expect(lines[0]).toBe('xychart-beta');
      expect(lines[1]).toMatch(/^ {4}title "[^"]*"$/);
      const labels = /^ {4}x-axis \[((?:"[^"\n]*"(?:, )?)+)\]$/.exec(lines[2]!)?.[1]?.split(', ') ?? [];
      const bars = /^ {4}bar \[([\d, ]+)\]$/.exec(lines[4]!)?.[1]?.split(', ') ?? [];
      expect(lines[3]).toMatch(/^ {4}y-axis "Requests" 0 --> \d+$/);
      expect(labels.length).toBe(6);
      expect(bars.length).toBe(labels.length);
    }
    expect(
      blocks[0]!
        .split('\n')
        .slice(2)
        .every((l) => /^ {4}"[^"]+" : \d+$/.test(l)),
    ).toBe(true);
  });

  it('has the time-series table', () => {
    expect(markdown).toContain(
      '| ISO week | Enterprise | Mid-Market | SMB |\n|---|---:|---:|---:|\n| 2026-W44 | 0 | 0 | 0 |\n| 2026-W45 | 1 | 0 | 0 |',
    );
    expect(markdown).toContain('| 2026-W48 | 0 | 0 | 1 |');
  });

  it('lets no user text run a quick action, mention anyone or reference an issue', () => {
    const lines = markdown.split('\n');
    expect(lines.filter((l) => /^[\s>]*\//.test(l))).toEqual([]);
    expect(markdown).not.toMatch(/(?<![\w])@(all|casey\.cse)/);
    expect(markdown).not.toMatch(/#\d/);
    expect(markdown).not.toContain('<b>');
    // The multi-line title of 6 stays on its table row.
    expect(markdown).not.toContain('Line one\n');
  });

  it('never links a request by #iid and drops or encodes unsafe URLs', () => {
    expect(safeUrl('https://gitlab.example/a (b)|c')).toBe('https://gitlab.example/a%20%28b%29%7Cc');
    expect(safeUrl('javascript:alert(1)')).toBeNull();
    const odd: Report = {
      ...report,
      atRisk: [{ ...report.atRisk[0]!, url: 'javascript:alert(1)', title: 'x](javascript:alert(1)) [y' }],
    };
    const md = renderReport(odd).markdown;
    expect(md).toContain('| x\\](javascript:alert(1)) \\[y | @');
    // The only `](` left is escaped: no link to a javascript: URL.
    expect(md).not.toMatch(/(?<!\\)\]\(javascript:/);
  });
});

describe('renderReport: an empty period', () => {
  const empty = buildReport(HISTORY, periodOf('month', new Date('2026-10-15T00:00:00Z')), config, NOW);
  const md = renderReport(empty).markdown;

  it('says so plainly and still renders the rest', () => {
    expect(empty.empty).toBe(true);
    expect(md).toContain('### Requests opened\n\nNo requests were opened in this period.\n');
    expect(md).not.toContain('| Segment | Id | Requests |');
    expect(mermaidBlocks(md)).toEqual([]);
    expect(md).toContain('| Time to assign | 0 | — | — |');
    expect(md).toContain('| Casey Kim (casey.cse) | 1 | 0 |');
    // The stale and at-risk sections describe now, whatever the period.
    expect(md).toContain('### Requests at risk');
    expect(md).toContain('| 2027-01-15 | flagged at risk, renewal in 43 days |');
    expect(md).toMatch(/### SLA breaches\n\nService levels fell due[^#]*\n\nNo service level was breached\./);
  });

  it('has a CSV with only the header', () => {
    expect(renderReport(empty).csv).toBe(`${CSV_HEADER.join(',')}\r\n`);
  });
});

describe('renderReport: JSON', () => {
  it('is the report, pretty-printed', () => {
    expect(json).toBe(JSON.stringify(report, null, 2));
    expect(JSON.parse(json)).toEqual(report);
  });
});

describe('renderReport: CSV', () => {
  it('has the header and one row per request opened in the period', () => {
    const rows = parseCsv(csv);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(rows[0]).toEqual([
      'iid',
      'url',
      'created_at',
      'form',
      'form_version',
      'segment',
      'region',
      'state',
      'open',
      'assigned_at',
      'accepted_at',
      'completed_at',
      'hours_to_assign',
      'hours_to_accept',
      'hours_to_complete',
    ]);
    expect(rows).toHaveLength(4);
    expect(rows[1]).toEqual([
      '1',
      'https://gitlab.example/sales/requests/-/issues/1',
      '2026-11-02T14:00:00Z',
      'ent_amr',
      '1',
      'ent',
      'amr',
      'completed',
      'false',
      '2026-11-02T16:00:00Z',
      '2026-11-03T15:00:00Z',
      '2026-11-10T14:00:00Z',
      '2',
      '25',
      '192',
    ]);
    expect(rows[2]).toEqual([
      '5',
      'https://gitlab.example/sales/requests/-/issues/5',
      '2026-11-20T15:00:00Z',
      'ent_amr',
      '1',
      'ent',
      'amr',
      'limit-reached',
      'true',
      '2026-11-20T15:30:00Z',
      '',
      '',
      '0.5',
      '',
      '',
    ]);
  });

  it('quotes per RFC 4180 and defuses formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell(12.5)).toBe('12.5');
    expect(csvCell(false)).toBe('false');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvCell('=1+2')).toBe("'=1+2");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('applies both to whole rows', () => {
    const hostile: Report = {
      ...report,
      rows: [{ ...report.rows[0]!, url: '=HYPERLINK("https://evil","click"),x', form: '@form', state: null }],
    };
    const rows = parseCsv(renderReport(hostile).csv);
    expect(rows).toHaveLength(2);
    expect(rows[1]![1]).toBe(`'=HYPERLINK("https://evil","click"),x`);
    expect(rows[1]![3]).toBe("'@form");
    expect(rows[1]![7]).toBe('');
    expect(rows[1]).toHaveLength(15);
  });
});

describe('renderReport: a large programme', () => {
  it(`shows at most ${MAX_ROWS} breaches and at-risk requests in the Markdown (GitLab caps a description at 1,048,576 bytes of UTF-8); the JSON keeps all`, () => {
    // 3,000 assigned requests never answered, all flagged at risk: 3,000 accept breaches, 3,000 at risk.
    const many = Array.from({ length: 3000 }, (_, i) =>
      req({
        iid: 100 + i,
        createdAt: '2026-11-02T14:00:00Z',
        updatedAt: '2026-12-02T14:00:00Z',
        assignees: ['casey.cse'],
        atRisk: true,
        state: 'assigned',
        stateSince: '2026-11-02T15:00:00Z',
        reached: { assigned: '2026-11-02T15:00:00Z' },
      }),
    );
    const big = buildReport(many, NOVEMBER, config, NOW);
    expect(big.breaches.length).toBe(3000);
    expect(big.atRisk.length).toBe(3000);
    const rendered = renderReport(big);
    expect(Buffer.byteLength(rendered.markdown, 'utf8')).toBeLessThan(1_048_576);
    expect((rendered.markdown.match(/\/-\/issues\/\d+\)/g) ?? []).length).toBe(2 * MAX_ROWS);
    expect(rendered.markdown).toContain(`…and ${3000 - MAX_ROWS} more, listed in \`report.json\`.`);
    expect(JSON.parse(rendered.json).breaches).toHaveLength(3000);
  });
});

describe('renderReport: the longest possible rows', () => {
  // Bounded by construction: MAX_ROWS rows per list, each echoed text cut to ECHO_MAX (it was 6.4 million characters before).
  it("stays within GitLab's description limit when every title (255, GitLab's maximum), customer name and problem is as long as it gets", () => {
    const many = Array.from({ length: 3000 }, (_, i) =>
      req({
        iid: 100 + i,
        title: '&'.repeat(255),
        customer: '&'.repeat(10_000),
        createdAt: '2026-11-02T14:00:00Z',
        updatedAt: '2026-12-02T14:00:00Z',
        assignees: ['casey.cse'],
        atRisk: true,
        state: 'assigned',
        stateSince: '2026-11-02T15:00:00Z',
        reached: { assigned: '2026-11-02T15:00:00Z' },
        problems: ['&'.repeat(10_000)],
      }),
    );
    const rendered = renderReport(buildReport(many, NOVEMBER, config, NOW));
    // GitLab's limit is 1 MiB of UTF-8 (BytesizeValidator), and escaping makes a `&` 8 bytes (`&amp;` and a ZWSP).
    expect(Buffer.byteLength(rendered.markdown, 'utf8')).toBeLessThanOrEqual(1_048_576);
    expect(rendered.markdown.startsWith('#')).toBe(true);
  });
});
