import { CursorCodec, cursorScope, type Page } from '../domain/paging';
import { validation } from '../domain/errors';
import type { KeyedPage, Store } from '../ports/store';

/** What a caller asks of a listing: `?limit=&cursor=`. */
export interface PageQuery {
  limit: number;
  cursor?: string;
}

const codecs = new WeakMap<object, Promise<CursorCodec>>();

/**
 * The deployment's cursor codec: its key is read from the store once per process (and created
 * there once per deployment), so every process, local or on Lambda, seals and opens alike.
 */
export function cursorCodec(store: Pick<Store, 'cursorKey'>): Promise<CursorCodec> {
  let codec = codecs.get(store);
  if (!codec) {
    codec = store.cursorKey().then((key) => new CursorCodec(key));
    codec.catch(() => codecs.delete(store));
    codecs.set(store, codec);
  }
  return codec;
}

/**
 * A listing's page as the store reads it: the caller's cursor opened (BAD_CURSOR when it was not
 * sealed for this listing, caller and filters), and a way to answer with the store's page, its
 * position sealed again for the same scope.
 */
export async function openPage(
  store: Pick<Store, 'cursorKey'>,
  listing: string,
  caller: string,
  filters: Record<string, unknown>,
  q: PageQuery,
) {
  const codec = await cursorCodec(store);
  const scope = cursorScope(listing, caller, filters);
  let after: string | undefined;
  if (q.cursor !== undefined) {
    const position = codec.open<unknown>(scope, q.cursor);
    if (typeof position !== 'string' || position === '')
      throw validation('BAD_CURSOR', 'The cursor is not one this API returned.');
    after = position;
  }
  return {
    limit: q.limit,
    after,
    answer<T, U = T>(page: KeyedPage<T>, map?: (items: T[]) => U[] | Promise<U[]>) {
      return (async (): Promise<Page<U>> => {
        const items = map ? await map(page.items) : (page.items as unknown as U[]);
        return page.next !== undefined
          ? { items, cursor: codec.seal(scope, page.next) }
          : { items };
      })();
    },
  };
}
