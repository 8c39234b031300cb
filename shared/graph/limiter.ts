/**
 * Per-mailbox concurrency limit: Outlook allows 4 concurrent requests per app per mailbox
 * (reference §2.3, throttling-limits "Outlook service limits"); beyond that it answers 429
 * ApplicationThrottled. Each instance keeps at most `limit` requests in flight per mailbox and
 * queues the rest in arrival order.
 */
export class MailboxLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly limit: () => number) {}

  async acquire(mailbox: string): Promise<() => void> {
    const inUse = this.active.get(mailbox) ?? 0;
    if (inUse < this.limit()) {
      this.active.set(mailbox, inUse + 1);
      return this.releaser(mailbox);
    }
    await new Promise<void>((resolve) => {
      const queue = this.waiting.get(mailbox) ?? [];
      queue.push(resolve);
      this.waiting.set(mailbox, queue);
    });
    return this.releaser(mailbox);
  }

  private releaser(mailbox: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const queue = this.waiting.get(mailbox);
      const next = queue?.shift();
      if (queue && queue.length === 0) this.waiting.delete(mailbox);
      if (next) {
        next(); // the slot passes straight to the next waiter
        return;
      }
      const inUse = (this.active.get(mailbox) ?? 1) - 1;
      if (inUse <= 0) this.active.delete(mailbox);
      else this.active.set(mailbox, inUse);
    };
  }

  inFlight(mailbox: string): number {
    return this.active.get(mailbox) ?? 0;
  }
}
