/**
 * A cap on the request-body bytes held in memory at once. Each body reserves its announced length
 * (or the largest allowed, when it has none) before it is read; a body that does not fit waits,
 * first come first served, and meanwhile nothing is read from its socket (TCP pushes back on the
 * sender). However many large posts arrive together, the buffered bodies stay under the cap.
 */
export class BodyBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; go: () => void }> = [];

  constructor(readonly capacity: number) {}

  /** Resolves with a release function once `bytes` (at most the capacity) are reserved. */
  reserve(bytes: number): Promise<() => void> {
    const n = Math.min(bytes, this.capacity);
    return new Promise((resolve) => {
      const go = () => {
        this.used += n;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.used -= n;
          this.next();
        });
      };
      if (this.waiting.length === 0 && this.used + n <= this.capacity) go();
      else this.waiting.push({ bytes: n, go });
    });
  }

  /** Bytes reserved now (tests, diagnostics). */
  get inUse(): number {
    return this.used;
  }

  private next(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.capacity) this.waiting.shift()!.go();
  }
}
