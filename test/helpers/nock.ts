import nock from 'nock';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

/** No request leaves the machine (loopback allowed), and every mock a test sets up must be used. */
export function useNock(): void {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(/(127\.0\.0\.1|localhost)/);
  });
  afterAll(() => nock.enableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, 'every mock must be used').toEqual([]);
  });
}
