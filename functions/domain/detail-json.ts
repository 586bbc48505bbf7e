import type { AuditEvent } from './model';

/**
 * An audit event's detail as the store keeps it: JSON text.
 *
 * The store writes each event's detail once, as `detailJson(detail)`, and reads it back with
 * JSON.parse. An event read back remembers that text beside the parsed detail, so that an export
 * embeds the text as it is instead of serializing the detail again (formatting an event for an
 * export is otherwise mostly JSON.stringify of its detail).
 *
 * The text is private to the event object: it is not a field, so no JSON, hash, spread, key list or
 * test equality sees it, and a copy of the event does not carry it. It is used only while the
 * event's `detail` is still the very object it was parsed into; events read from the store are
 * records that nothing changes in place (a use case that wants a different detail builds a new
 * event). JSON.stringify(JSON.parse(text)) is the text again, for any text JSON.stringify made, so
 * an export of a stored event is byte for byte the export of the event as it was written.
 */
class EventWithDetailJson {
  readonly #detail: unknown;
  readonly #json: string;

  constructor(detail: unknown, json: string) {
    this.#detail = detail;
    this.#json = json;
  }

  static textOf(e: object): string | undefined {
    return #json in e && (e as { detail?: unknown }).detail === e.#detail ? e.#json : undefined;
  }
}

/** The JSON text the store keeps for a detail. */
export const detailJson = (detail: unknown): string | undefined => JSON.stringify(detail);

/**
 * A new, empty event object that remembers `json` as the text of `detail` (which must be
 * JSON.parse(json), or an object JSON.stringify turns into exactly `json`). The caller sets every
 * field of the event, `detail` to that same object.
 */
export function eventWithDetailJson(detail: unknown, json: string): Record<string, unknown> {
  return new EventWithDetailJson(detail, json) as unknown as Record<string, unknown>;
}

/** The stored JSON text of the event's detail, if the event was read with one and still holds that detail. */
export function storedDetailJson(e: AuditEvent): string | undefined {
  return EventWithDetailJson.textOf(e);
}
