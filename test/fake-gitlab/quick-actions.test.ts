import { describe, expect, it } from 'vitest';
import {
  CREATE_COMMANDS,
  UPDATE_COMMANDS,
  extractQuickActions,
  parseLabelArg,
  parseUserArg,
} from '../../src/fake-gitlab/quick-actions.js';

describe('extractQuickActions', () => {
  it('removes known commands at column 0 with the blank line after them, like GitLab', () => {
    const { text, actions } = extractQuickActions(
      'hello\r\n/labels ~foo ~"bar baz"\r\n\r\nworld\r\n/close\r\n',
      UPDATE_COMMANDS,
    );
    expect(actions).toEqual([
      { name: 'labels', arg: '~foo ~"bar baz"' },
      { name: 'close', arg: '' },
    ]);
    expect(text).toBe('hello\nworld');
  });

  it('leaves unknown or unavailable commands, indented lines, code, HTML blocks and >>> quotes', () => {
    const input = [
      '/shrug x',
      ' /label ~a',
      '/close',
      '```',
      '/label ~b',
      '```',
      '<!--',
      '/label ~c',
      '-->',
      '<details>',
      '/label ~d',
      '',
      '>>>',
      '/label ~e',
      '>>>',
    ].join('\n');
    const { text, actions } = extractQuickActions(input, CREATE_COMMANDS);
    expect(actions).toEqual([]);
    expect(text).toBe(input);
  });

  it('requires a space or the line end after the name', () => {
    expect(extractQuickActions('/labelx ~a', UPDATE_COMMANDS).actions).toEqual([]);
    expect(extractQuickActions('/LABEL ~a', UPDATE_COMMANDS).actions).toEqual([{ name: 'label', arg: '~a' }]);
  });
});

describe('extractQuickActions: where GitLab looks (lib/gitlab/quick_actions/extractor.rb, QuickActionFilter)', () => {
  const run = (text: string) => extractQuickActions(text, UPDATE_COMMANDS);

  it('runs commands only in top-level paragraphs: not in list items, blockquotes or table rows', () => {
    for (const text of [
      '- an item\n/close',
      '1. an item\n/close',
      '> quoted\n/close',
      '| a |\n|---|\n| b |\n/close',
      '>>>\nquoted\n/close\n>>>',
      '    /close',
    ]) {
      expect(run(text), text).toEqual({ text, actions: [] });
    }
  });

  it('runs a command after an HTML comment line, as after the bot’s hidden marker', () => {
    expect(run('<!-- scale-bot:{"key":"request"} -->\n/close\n\nrest')).toEqual({
      text: '<!-- scale-bot:{"key":"request"} -->\nrest',
      actions: [{ name: 'close', arg: '' }],
    });
  });

  it('skips inline code spanning lines and <tag> … </tag> blocks inside a paragraph', () => {
    expect(run('Hello `some text\n/close\n`\n\nWorld').actions).toEqual([]);
    expect(run('Hello\n<div>\ntext\n/close\n</div>\n\nWorld').actions).toEqual([]);
    // Inline code on other lines does not shield a command on its own line.
    expect(run('/reopen\n`code`\n/labels ~a\n`more`')).toEqual({
      text: '`code`\n`more`',
      actions: [
        { name: 'reopen', arg: '' },
        { name: 'labels', arg: '~a' },
      ],
    });
  });

  it('never runs an escaped, indented, mid-line or glued command', () => {
    for (const text of ['\\/close', 'x \\/close', 'say /close', ' /close', '/close~x', '/assign@casey.cse']) {
      expect(run(text).actions, text).toEqual([]);
    }
  });

  it('keeps the blank line after a paragraph that held only commands out of the text', () => {
    expect(run('one\n\n/close\n\ntwo')).toEqual({ text: 'one\n\ntwo', actions: [{ name: 'close', arg: '' }] });
  });
});

describe('arguments', () => {
  it('reads label references and plain comma lists', () => {
    expect(parseLabelArg('~foo ~"bar baz" ~12 ~segment::mm')).toEqual([
      { name: 'foo' },
      { name: 'bar baz' },
      { id: 12 },
      { name: 'segment::mm' },
    ]);
    expect(parseLabelArg('foo, bar baz')).toEqual([{ name: 'foo' }, { name: 'bar baz' }]);
  });

  it('reads user mentions, me, and plain usernames', () => {
    expect(parseUserArg('@casey.cse @drew.cse.')).toEqual([{ username: 'casey.cse' }, { username: 'drew.cse' }]);
    expect(parseUserArg('me')).toEqual([{ me: true }]);
    expect(parseUserArg('casey.cse')).toEqual([{ username: 'casey.cse' }]);
  });
});
