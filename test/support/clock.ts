/**
 * A clock the test moves: it starts at the current second and stands still until the test sets
 * `t` (or calls `advance`). Give it to the portal as its `clock`.
 */
export function movingClock(start = new Date(Math.floor(Date.now() / 1000) * 1000)) {
  return {
    t: start,
    now() {
      return this.t;
    },
    advance(ms: number) {
      this.t = new Date(this.t.getTime() + ms);
    },
  };
}
export type MovingClock = ReturnType<typeof movingClock>;
