// Paged listings in the pages: the first page loads with the page, "Load more" asks for the next.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { ApiError, Page } from './api';
import { asApiError, ErrorNote, useLoad, type Loaded } from './ui';

interface More<T> {
  /** The first page these follow (a reload starts over). */
  first?: Page<T>;
  items: T[];
  cursor?: string;
  busy: boolean;
  error?: ApiError;
}

export type Paged<T> = Loaded<T[]> & {
  reload: () => void;
  /** Whether there is a next page. */
  hasMore: boolean;
  busy: boolean;
  /** Why the last "Load more" failed. */
  moreError?: ApiError;
  loadMore: () => Promise<void>;
};

/** A listing loaded a page at a time, following the API's cursors. */
export function usePaged<T>(
  load: (cursor?: string) => Promise<Page<T>>,
  deps: unknown[],
): Paged<T> {
  const first = useLoad(() => load(), deps);
  const [more, setMore] = useState<More<T>>({ items: [], busy: false });
  const firstPage = first.state === 'ready' ? first.data : undefined;
  const current: More<T> =
    more.first === firstPage && firstPage !== undefined
      ? more
      : { first: firstPage, items: [], cursor: firstPage?.cursor, busy: false };
  const loadMore = async () => {
    if (!current.cursor || current.busy) return;
    setMore({ ...current, busy: true, error: undefined });
    try {
      const page = await load(current.cursor);
      setMore({
        first: firstPage,
        items: [...current.items, ...page.items],
        cursor: page.cursor,
        busy: false,
      });
    } catch (e) {
      setMore({ ...current, busy: false, error: asApiError(e) });
    }
  };
  const value: Loaded<T[]> =
    first.state === 'ready'
      ? { state: 'ready', data: [...first.data.items, ...current.items] }
      : first;
  return {
    ...value,
    reload: first.reload,
    hasMore: current.cursor !== undefined,
    busy: current.busy,
    moreError: current.error,
    loadMore,
  };
}

/** The "Load more" control of a paged listing: shown while there is a next page. */
export function LoadMore<T>({ paged }: { paged: Paged<T> }) {
  if (paged.state !== 'ready') return null;
  return (
    <div class="load-more">
      {paged.moreError ? <ErrorNote error={paged.moreError} /> : null}
      {paged.hasMore ? (
        <button
          type="button"
          class="secondary"
          data-testid="load-more"
          disabled={paged.busy}
          onClick={() => void paged.loadMore()}
        >
          {paged.busy ? 'Loading…' : 'Load more'}
        </button>
      ) : null}
    </div>
  );
}

/**
 * What an empty listing says: `none` ("you hold no access") only once there is no next page. A
 * filtered page may come back empty with a cursor (the API evaluates a bounded number of items per
 * page), and saying "none" beside "Load more" would be wrong.
 */
export function EmptyListing<T>({ paged, none }: { paged: Paged<T>; none: ComponentChildren }) {
  if (paged.hasMore)
    return (
      <p class="muted" data-testid="none-yet">
        None found in what was read so far: load more to look further.
      </p>
    );
  return <>{none}</>;
}
