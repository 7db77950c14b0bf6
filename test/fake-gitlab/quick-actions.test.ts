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
