/**
 * Calls per user in fixed one-minute windows, counted in this process.
 *
 * Why in the process and not in the table: a shared counter costs one write on every call (it
 * doubled the DynamoDB commands of a read, see `npm run bench -- authz`), to protect against a
 * flood that API Gateway's stage throttling already bounds in total. Each instance holds a user to
 * the limit; a user spread over N warm instances gets at most N times it, while what one user can
 * make others pay for is bounded by the refusal windows (one audit event per window) and the
 * open-request limit, both kept in the table.
 */
export class CallWindows {
  private readonly windows = new Map<string, { start: number; calls: number }>();

  /** `maxUsers` bounds the memory: past it, windows that have ended are dropped first. */
  constructor(
    private readonly windowMs = 60_000,
    private readonly maxUsers = 10_000,
  ) {}

  /**
   * Counts one call of `user` at `nowMs`. Returns undefined while the user is within `limit`
   * calls of the current window, or the seconds until it ends when over it.
   */
  take(user: string, nowMs: number, limit: number): number | undefined {
    const start = Math.floor(nowMs / this.windowMs) * this.windowMs;
    let w = this.windows.get(user);
    if (!w || w.start !== start) {
      if (!w && this.windows.size >= this.maxUsers) this.forget(start);
      w = { start, calls: 0 };
      this.windows.set(user, w);
    }
    w.calls++;
    if (w.calls <= limit) return undefined;
    return Math.max(1, Math.ceil((start + this.windowMs - nowMs) / 1000));
  }

  private forget(current: number): void {
    for (const [user, w] of this.windows) if (w.start !== current) this.windows.delete(user);
    // Everyone is calling in this very window: the oldest entries make room.
    while (this.windows.size >= this.maxUsers) {
      this.windows.delete(this.windows.keys().next().value!);
    }
  }
}
