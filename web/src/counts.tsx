// The counts in the navigation: unread notifications (the bell) and requests waiting for the
// caller's approval (the Approvals badge). One small call, on every navigation and every minute.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Api, NotificationSummary } from './api';

export const COUNTS_REFRESH_MS = 60_000;

export function useCounts(api: Api | undefined, page: string) {
  const [value, setValue] = useState<NotificationSummary | undefined>();
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    if (!api) return;
    let live = true;
    // A failed read keeps the counts on screen: they are a hint, the pages say what is true.
    api.notificationSummary().then(
      (s) => live && setValue(s),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [api, page, tick]);
  useEffect(() => {
    const timer = setInterval(refresh, COUNTS_REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);
  return { value, refresh };
}

/** A count next to a navigation item; `label` is what a screen reader says instead of the digits. */
export function CountBadge({
  text,
  label,
  testId,
}: {
  text: string;
  label?: string;
  testId: string;
}) {
  return (
    <span class="count" data-testid={testId}>
      {label ? <span aria-hidden="true">{text}</span> : text}
      {label ? <span class="sr-only"> ({label})</span> : null}
    </span>
  );
}
