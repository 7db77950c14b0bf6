/** The waits in progress per signal, and the one abort listener that cuts them all short. */
const waitsBySignal = new WeakMap<AbortSignal, { cancels: Set<() => void>; onAbort: () => void }>();

/**
 * Sleeps `ms` unless `signal` aborts first (then rejects with an AbortError, as timers/promises does). Every wait on one signal
 * shares one abort listener, removed with the last wait: a listener per wait (as timers/promises
 * adds) passes Node's limit of 10 once more calls than that wait on a service's stop signal, and
 * Node warns of a leak (MaxListenersExceededWarning).
 */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  let waits = waitsBySignal.get(signal);
  if (!waits) {
    const cancels = new Set<() => void>();
    const onAbort = () => {
      waitsBySignal.delete(signal);
      for (const cancel of cancels) cancel();
    };
    waits = { cancels, onAbort };
    waitsBySignal.set(signal, waits);
    signal.addEventListener('abort', onAbort, { once: true });
  }
  const { cancels, onAbort } = waits;
  return new Promise<void>((resolve, reject) => {
    const end = () => {
      cancels.delete(cancel);
      if (cancels.size > 0) return;
      signal.removeEventListener('abort', onAbort);
      waitsBySignal.delete(signal);
    };
    const timer = setTimeout(() => {
      end();
      resolve();
    }, ms);
    const cancel = () => {
      clearTimeout(timer);
      end();
      reject(abortError(signal));
    };
    cancels.add(cancel);
  });
}

function abortError(signal: AbortSignal): Error {
  return new DOMException('The operation was aborted', { name: 'AbortError', cause: signal.reason });
}
