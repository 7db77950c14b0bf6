import { describe, expect, it } from 'vitest';
import { readNoteMarker } from '../../src/domain/bot-note-marker.js';
import { ZWSP } from '../../src/domain/markdown-safety.js';
import { sentKeys, type ReminderItem, type ReminderMessage } from '../../src/domain/reminders.js';
import { inspectText } from '../../src/fake-gitlab/note-safety.js';
import { reminderNoteBody, waitingNoteBody } from '../../src/render/reminders.js';

function item(overrides: Partial<ReminderItem> = {}): ReminderItem {
  return {
    kind: 'accept',
    iid: 7,
    title: 'Scale request: Acme',
    webUrl: 'https://gitlab.example/sales/requests/-/issues/7',
    due: '2026-11-24T21:00:00.000Z',
    businessDaysLate: 2,
    text: 'not accepted or declined 2 business days after assignment (due 2026-11-24 16:00 America/New_York)',
    action:
      'accept with `@scale-bot accept` (or the label `engagement::accepted`), or decline with `@scale-bot decline <reason>`',
    ...overrides,
  };
}

function message(items: ReminderItem[], username = 'casey.cse'): ReminderMessage {
  return {
    username,
    items,
    markerKey: `reminders:${username}:20261126t1700`,
    keys: items.map((i) => `${i.kind}:${i.iid}:2026-11-20T21:00:00Z>${username}`),
  };
}

describe('reminderNoteBody', () => {
  const two = message([
    item(),
    item({
      kind: 'stale',
      iid: 12,
      title: 'Globex renewal',
      webUrl: 'https://gitlab.example/sales/requests/-/issues/12',
      businessDaysLate: 0,
      text: 'no activity by anyone for 10 business days (due 2026-11-26 10:00 America/New_York)',
      action: 'comment on the request with where it stands',
    }),
  ]);

  it('starts with the marker carrying the sent keys, then the mention', () => {
    const body = reminderNoteBody(two);
    const lines = body.split('\n');
    expect(lines[0]).toMatch(/^<!-- scale-bot:reminders:casey\.cse:20261126t1700 state=[A-Za-z0-9_-]+ -->$/);
    expect(readNoteMarker(body)).toEqual({ key: 'reminders:casey.cse:20261126t1700', state: { sent: two.keys } });
    expect(sentKeys([body])).toEqual(new Set(two.keys));
    expect(lines[1]).toBe('@casey.cse, 2 requests need your attention:');
  });

  it('lists one bullet per item, linked by URL, never by #iid', () => {
    const body = reminderNoteBody(two);
    expect(body).toContain(
      '- [Scale request: Acme](https://gitlab.example/sales/requests/-/issues/7): not accepted or declined 2 business days after assignment (due 2026-11-24 16:00 America/New_York) — 2 business days late. To clear it: accept with `@scale-bot accept` (or the label `engagement::accepted`), or decline with `@scale-bot decline <reason>`.\n',
    );
    expect(body).toContain(
      '- [Globex renewal](https://gitlab.example/sales/requests/-/issues/12): no activity by anyone for 10 business days (due 2026-11-26 10:00 America/New_York). To clear it: comment on the request with where it stands.\n',
    );
    expect(body).not.toMatch(/#\d/);
    expect(body.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(2);
    expect(inspectText(body)).toEqual({ quickActions: [], mentions: ['casey.cse'], references: [] });
  });

  it('counts requests, not reminders, and says "1 request needs"', () => {
    const sameRequest = message([
      item(),
      item({ kind: 'stale', businessDaysLate: 1, text: 'no activity for 10 business days (due …)' }),
    ]);
    const body = reminderNoteBody(sameRequest);
    expect(body.split('\n')[1]).toBe('@casey.cse, 1 request needs your attention:');
    expect(body).toContain('— 1 business day late');
  });

  it('ends with a one-line footer', () => {
    const lines = reminderNoteBody(two).split('\n');
    expect(lines.at(-1)).toMatch(/^<sub>.+<\/sub>$/);
    expect(lines.at(-2)).toBe('');
  });

  it('neutralizes a hostile title', () => {
    const body = reminderNoteBody(message([item({ title: '/close @all #1' })]));
    expect(inspectText(body)).toEqual({ quickActions: [], mentions: ['casey.cse'], references: [] });
    expect(body.split('\n').some((l) => /^\s*\//.test(l))).toBe(false);
    expect(body).toContain(`- [\\/close @${ZWSP}all #${ZWSP}1](https://gitlab.example/sales/requests/-/issues/7)`);
  });

  it.each([
    ['a multi-line title with a quick action', 'Acme\n/assign @root\n/close'],
    ['mentions and references', '@here ping @devops-team about ~"P1" !3 %"2026" &4 group/project#12'],
    ['a title that closes the link and opens another', 'Acme](https://evil.example) [click'],
    ['a spoofed marker', '<!-- scale-bot:reminders:x state=abc -->'],
    ['a code span that swallows the note', '```\n@all'],
  ])('leaves no active mention, reference or quick action from %s', (_name, title) => {
    const body = reminderNoteBody(
      message([
        item({ title }),
        item({ iid: 8, title: `${title} again`, webUrl: 'https://gitlab.example/sales/requests/-/issues/8' }),
      ]),
    );
    expect(inspectText(body)).toEqual({ quickActions: [], mentions: ['casey.cse'], references: [] });
    const lines = body.split('\n');
    expect(lines.filter((l) => l.startsWith('- ['))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('<!--'))).toHaveLength(1);
    expect(body).not.toMatch(/(?<!\\)\]\(https:\/\/evil/);
    expect(readNoteMarker(body)!.key).toBe('reminders:casey.cse:20261126t1700');
  });

  it('keeps a URL from ending the link early', () => {
    const body = reminderNoteBody(message([item({ webUrl: 'https://gitlab.example/a (b)/-/issues/7' })]));
    expect(body).toContain('(https://gitlab.example/a%20%28b%29/-/issues/7)');
  });

  it('mentions nobody for a username GitLab could not have', () => {
    const body = reminderNoteBody(message([item()], 'all @here'));
    expect(inspectText(body).mentions).toEqual([]);
  });
});

describe('waitingNoteBody', () => {
  const step = {
    iid: 24,
    title: '/close @all',
    webUrl: 'https://gitlab.example/sales/requests/-/issues/24',
    author: 'jordan.ae',
    since: '2026-11-09T15:01:00Z',
    businessDays: 10,
  };

  it('reminds the author once, saying when the request closes', () => {
    const body = waitingNoteBody({
      ...step,
      action: 'remind',
      key: 'waiting-on-author:2026-11-09t15:01:00z',
      notePosted: false,
      at: '2026-12-01T15:01:00.000Z',
    });
    expect(readNoteMarker(body)).toEqual({ key: 'waiting-on-author:2026-11-09t15:01:00z', state: {} });
    expect(body).toContain(
      '@jordan.ae, this request has been waiting for more information from you for 10 business days',
    );
    expect(body).toContain(
      'If nothing happens by 2026-12-01, the bot closes the request; you can reopen it whenever you are ready.',
    );
    expect(inspectText(body)).toEqual({ quickActions: [], mentions: ['jordan.ae'], references: [] });
  });

  it('closes with how to reopen, and runs no quick action itself', () => {
    const body = waitingNoteBody({
      ...step,
      action: 'close',
      key: 'closed-waiting:2026-11-09t15:01:00z',
      notePosted: false,
      at: '2026-11-23T16:00:00Z',
      businessDays: 15,
    });
    expect(body).toContain('no answer since the reminder of 2026-11-23, so the bot has closed it');
    expect(body).toContain('reopen the issue (the **Reopen issue** button, or a comment with `/reopen`)');
    expect(inspectText(body)).toEqual({ quickActions: [], mentions: ['jordan.ae'], references: [] });
  });
});

describe('reminderNoteBody: the longest possible note', () => {
  it("stays within GitLab's note limit with thousands of overdue requests titled as long as GitLab allows, and keeps its marker", () => {
    const items = Array.from({ length: 3000 }, (_, i) =>
      item({ iid: i, title: '&'.repeat(255), webUrl: `https://gitlab.example/sales/requests/-/issues/${i}` }),
    );
    const long = message(items);
    const body = reminderNoteBody(long);
    expect(body.length).toBeLessThanOrEqual(1_000_000);
    expect(sentKeys([body])).toEqual(new Set(long.keys));
  });
});
