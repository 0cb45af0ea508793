/**
 * Doubling waits up to a cap, never past the caller's deadline: the one retry pause of this
 * layer's own requests (an unbounded wait passes `Infinity`).
 */
export class Backoff {
  private next: number;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {
    this.next = initialMs;
  }

  async pause(deadline: number, describeFailure: () => string): Promise<void> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`${describeFailure()}; gave up at the deadline`);
    const wait = Math.min(this.next, remaining);
    this.next = Math.min(this.next * 2, this.maxMs);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** After a success: the next failure starts from the shortest wait again. */
  reset(): void {
    this.next = this.initialMs;
  }
}
