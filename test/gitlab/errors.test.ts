import { describe, expect, it } from 'vitest';
import {
  AmbiguousWriteError,
  GitLabHttpError,
  isPermanent,
  isTransient,
  UnexpectedResponseError,
  UnknownUserError,
} from '../../src/gitlab/errors.js';

const http = (status: number) => new GitLabHttpError(`GET x: ${status}`, status, 'GET', 'x', null, '');
const coded = (code: string) => Object.assign(new Error(code), { code });
const named = (name: string) => Object.assign(new Error(name), { name });

describe('isTransient / isPermanent', () => {
  it.each([
    ['429', http(429), true, false],
    ['500', http(500), true, false],
    ['503', http(503), true, false],
    ['400', http(400), false, true],
    ['403', http(403), false, true],
    ['404', http(404), false, true],
    ['an unknown write outcome', new AmbiguousWriteError('POST x: no answer', null), true, false],
    ['a reset connection', coded('ECONNRESET'), true, false],
    ['a refused connection', coded('ECONNREFUSED'), true, false],
    ['a timeout', named('TimeoutError'), true, false],
    ['an abort', named('AbortError'), true, false],
    ['an unreadable answer', new UnexpectedResponseError('GET x', 'id: expected number'), false, true],
    ['an unknown user', new UnknownUserError('nobody'), false, true],
    ['any other error', new Error('bug'), false, false],
    ['an error with a status that is not GitLab’s', Object.assign(new Error('x'), { status: 403 }), false, false],
    ['a non-error', 'oops', false, false],
  ])('%s: transient %s, permanent %s', (_what, err, transient, permanent) => {
    expect(isTransient(err)).toBe(transient);
    expect(isPermanent(err)).toBe(permanent);
  });
});
