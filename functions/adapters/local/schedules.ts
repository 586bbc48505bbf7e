export interface ScheduleOptions {
  sweepSeconds: number;
  syncMinutes: number;
  reconcileMinutes: number;
}

/** The scheduled tasks, as the core provides them. */
export interface ScheduledTasks {
  sweep(): Promise<unknown>;
  sync(): Promise<unknown>;
  reconcile(): Promise<unknown>;
}

/**
 * The embedded default's stand-in for EventBridge Scheduler: timers in this process for the
 * expiry sweeper, the catalog sync and the reconciler. A run that fails is logged and tried
 * again at the next tick. Returns a function that stops them.
 */
export function startSchedules(
  tasks: ScheduledTasks,
  opts: ScheduleOptions,
  log: (msg: string, err?: unknown) => void,
): () => void {
  const every = (ms: number, name: string, run: () => Promise<unknown>) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      run()
        .catch((err) => log(`${name} failed`, err))
        .finally(() => (busy = false));
    }, ms);
    timer.unref();
    return () => clearInterval(timer);
  };
  const stops = [
    every(opts.sweepSeconds * 1000, 'expiry sweep', tasks.sweep),
    every(opts.syncMinutes * 60_000, 'catalog sync', tasks.sync),
    every(opts.reconcileMinutes * 60_000, 'reconciliation', tasks.reconcile),
  ];
  return () => stops.forEach((stop) => stop());
}
