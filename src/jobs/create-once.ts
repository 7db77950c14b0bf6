import { AmbiguousWriteError } from '../gitlab/errors.js';

/**
 * Creates something at most once: when GitLab may or may not have taken the write (a timeout, a
 * 5xx on the POST), look again before writing a second time.
 */
export async function createOnce<T>(find: () => Promise<T | null>, create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (!(err instanceof AmbiguousWriteError)) throw err;
    return (await find()) ?? (await create());
  }
}
