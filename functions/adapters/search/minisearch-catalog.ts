import { SortedVocabulary } from './sorted-vocabulary';
import type { DataProduct } from '../../domain/model';
import {
  FACETS,
  type CatalogIndex,
  type CatalogSearch,
  type FacetCount,
  type FacetName,
  type ProductSummary,
  type RankKey,
  type SearchResult,
} from '../../ports/search';

/**
 * The catalog's full-text index: MiniSearch's ranking (https://lucaong.github.io/minisearch/:
 * BM25+ with per-field boosts, fuzzy (edit distance) and prefix matching, its weights and
 * parameters) over a compact index. MiniSearch keeps one Map of term frequencies per term and
 * field, about 50 bytes a posting: at 100,000 products (12 million postings) that held ~800 MB.
 * Here the vocabulary is the sorted terms (`SortedVocabulary`, which answers the prefix and
 * fuzzy look-ups as MiniSearch's radix tree did), pointing into flat typed arrays: per posting a document number and its
 * four fields' frequencies (8 bytes); per document its fields' lengths. Result summaries are
 * compact too (interned domains, owners, tags, classifications; the card's strings), and made
 * only for the page asked for. The whole index serialises to one buffer (a JSON header of the
 * strings, then the arrays) that loads without re-indexing: one process builds it when the
 * catalog changes, every API process loads it, with no search cluster.
 */

/** The fields a product is found by, each with its boost (MiniSearch's `boost`). */
const FIELDS = ['head', 'owner', 'columns', 'description'] as const;
const BOOST = [3, 1.5, 1.2, 1];
const F = FIELDS.length;

/** MiniSearch's defaults: BM25+ parameters and the weights of prefix and fuzzy matches. */
const BM25 = { k: 1.2, b: 0.7, d: 0.5 };
const PREFIX_WEIGHT = 0.375;
const FUZZY_WEIGHT = 0.45;

/** Splits on anything that is not a letter or digit (`customer_id` and `hr/employees` give words), lower-cased. */
const tokenize = (text: string): string[] =>
  text
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((t) => t.toLowerCase());

/** A word of the query matches the start of a longer one ("emp" finds "employees")... */
const prefixOf = (term: string) => term.length >= 2;
/**
 * ...and typos, as search engines usually allow: one edit in 3 to 5 letters, two beyond. Not in a
 * number: "2024" is no typo of "2025", nor an id's "16262" of "16263" (a number in a query names
 * one thing, and at 100,000 products one edit of it finds hundreds of others to score).
 */
const fuzzyOf = (term: string) =>
  term.length < 3 || /^\p{N}+$/u.test(term) ? 0 : term.length <= 5 ? 1 : 2;

/** Facet lists are capped (an owner facet over 100,000 products could hold thousands). */
export const MAX_FACET_VALUES = 50;

/** The text of each field: the id's words, the title and the tags; the owner; columns; description. */
const fieldTexts = (p: DataProduct): string[] => [
  `${p.id} ${p.title} ${p.tags.join(' ')}`,
  p.owner,
  // Column names and their comments, in one field with a lower boost.
  p.columns.map((c) => `${c.name} ${c.comment ?? ''}`).join(' '),
  p.description,
];

export const summary = (p: DataProduct): ProductSummary => ({
  id: p.id,
  domain: p.domain,
  name: p.name,
  title: p.title,
  description: p.description,
  owner: p.owner,
  classification: p.classification,
  tags: p.tags,
  status: p.status,
  pii: p.columns.some((c) => c.pii),
});

/** Distinct values of a column of strings, and each row's number in them. */
function intern(values: string[]): { table: string[]; refs: Uint32Array } {
  const at = new Map<string, number>();
  const refs = new Uint32Array(values.length);
  values.forEach((v, i) => {
    let n = at.get(v);
    if (n === undefined) at.set(v, (n = at.size));
    refs[i] = n;
  });
  return { table: [...at.keys()], refs };
}

/** The strings of the index (in the serialised header). */
interface Strings {
  ids: string[];
  names: string[];
  titles: string[];
  descriptions: string[];
  domains: string[];
  owners: string[];
  classifications: string[];
  statuses: string[];
  tags: string[];
  terms: string[];
}

/** The numbers of the index (after the header, as binary). */
interface Arrays {
  domain: Uint32Array;
  owner: Uint32Array;
  classification: Uint32Array;
  status: Uint32Array;
  pii: Uint8Array;
  /** Document d's tags: tagIds[tagOffsets[d] .. tagOffsets[d + 1]]. */
  tagOffsets: Uint32Array;
  tagIds: Uint32Array;
  /** Unique words of document d's field f: fieldLength[d * F + f]. */
  fieldLength: Uint16Array;
  /** Term t's postings: [postOffsets[t] .. postOffsets[t + 1]) of postDocs and postFreqs. */
  postOffsets: Uint32Array;
  postDocs: Uint32Array;
  /** A posting's frequency in field f: byte f (capped at 255). */
  postFreqs: Uint32Array;
  /** Documents whose field f holds term t: docFreq[t * F + f]. */
  docFreq: Uint32Array;
}
type ArrayName = keyof Arrays;
const ARRAYS: Record<ArrayName, 'u8' | 'u16' | 'u32'> = {
  domain: 'u32',
  owner: 'u32',
  classification: 'u32',
  status: 'u32',
  pii: 'u8',
  tagOffsets: 'u32',
  tagIds: 'u32',
  fieldLength: 'u16',
  postOffsets: 'u32',
  postDocs: 'u32',
  postFreqs: 'u32',
  docFreq: 'u32',
};

/** The serialised form's number (1 was MiniSearch's own JSON). */
export const INDEX_FORMAT = 2;

interface Header {
  format: typeof INDEX_FORMAT;
  version: number;
  avgFieldLength: number[];
  strings: Strings;
  /** Each array's length, in the order of ARRAYS, after the header (each 4-byte aligned). */
  lengths: Record<ArrayName, number>;
}

/**
 * The card strings of every document (id, name, title, description: by far the most of the
 * index's strings), as UTF-8 in one buffer outside the JavaScript heap: field f of document d is
 * `bytes[offsets[f * (n + 1) + d] .. offsets[f * (n + 1) + d + 1])`. At 100,000 products they
 * were 400,000 strings (~26 MB) in the heap, which V8 then lets grow several times over between
 * full collections; a page's summaries decode 50 of each.
 */
export interface Texts {
  bytes: Uint8Array;
  offsets: Uint32Array;
}

/** The string arrays kept as `Texts`, in their order. */
const TEXT_FIELDS = ['ids', 'names', 'titles', 'descriptions'] as const;

/** Packs string columns of equal length into `Texts`. */
export function packTexts(fields: string[][]): Texts {
  const n = fields[0] ? fields[0].length : 0;
  const offsets = new Uint32Array(fields.length * (n + 1));
  let total = 0;
  for (let f = 0; f < fields.length; f++) {
    offsets[f * (n + 1)] = total;
    for (let d = 0; d < n; d++) {
      total += Buffer.byteLength(fields[f]![d]!, 'utf8');
      offsets[f * (n + 1) + d + 1] = total;
    }
  }
  const bytes = Buffer.allocUnsafeSlow(total);
  for (let f = 0; f < fields.length; f++)
    for (let d = 0; d < n; d++) bytes.write(fields[f]![d]!, offsets[f * (n + 1) + d]!, 'utf8');
  return { bytes, offsets };
}

/**
 * A serialised index read: its header (without the card strings), its arrays (each copied out
 * into its own buffer) and its card strings packed (`Texts`).
 */
export interface SerialisedParts {
  header: Header;
  arrays: Record<ArrayName, Uint8Array | Uint16Array | Uint32Array>;
  texts: Texts;
}

/**
 * Reads what `MiniSearchCatalog.serialise` wrote: the JSON header, then each array (copied out,
 * so the buffer can go), and packs the card strings (`packTexts`). The embedded portal runs it in
 * a worker thread (adapters/local/search-index-thread.ts, which imports it), with the arrays'
 * widths and the format passed in.
 */
export function splitSerialised(
  buf: Buffer,
  widths: Record<string, 'u8' | 'u16' | 'u32'>,
  format: number,
): SerialisedParts {
  const headerLength = buf.readUInt32LE(0);
  if (buf[0] === 0x7b || 4 + headerLength > buf.length)
    throw new Error('unknown search index format (an older one: rebuild it)');
  const header = JSON.parse(buf.toString('utf8', 4, 4 + headerLength)) as Header;
  if (header.format !== format)
    throw new Error(`unknown search index format ${String(header.format)}`);
  let at = 4 + headerLength;
  const arrays = {} as Record<string, Uint8Array | Uint16Array | Uint32Array>;
  for (const k of Object.keys(widths)) {
    at += (4 - (at % 4)) % 4;
    const type = widths[k];
    const width = type === 'u8' ? 1 : type === 'u16' ? 2 : 4;
    const length = header.lengths[k as keyof Header['lengths']];
    const bytes = buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + length * width);
    arrays[k] =
      type === 'u8'
        ? new Uint8Array(bytes)
        : type === 'u16'
          ? new Uint16Array(bytes)
          : new Uint32Array(bytes);
    at += length * width;
  }
  // The card strings leave the header packed (their strings are this function's garbage: in a
  // worker, the worker's).
  const st = header.strings;
  const texts = packTexts([st.ids, st.names, st.titles, st.descriptions]);
  st.ids = [];
  st.names = [];
  st.titles = [];
  st.descriptions = [];
  return { header, arrays: arrays as SerialisedParts['arrays'], texts };
}

/** The arrays of a serialised index and their element widths, in their order. */
export const INDEX_ARRAYS: Readonly<Record<string, 'u8' | 'u16' | 'u32'>> = ARRAYS;

export class MiniSearchCatalog implements CatalogIndex {
  private readonly vocabulary: SortedVocabulary;

  /** The card strings (`Texts`), as a Buffer to decode from. */
  private readonly text: Buffer;
  private readonly textOffsets: Uint32Array;
  private readonly n: number;
  /** The strings kept as strings: the interned columns (the card strings and terms are not). */
  private readonly s: Strings;

  private constructor(
    readonly version: number,
    strings: Strings,
    private readonly a: Arrays,
    private readonly avgFieldLength: number[],
    texts: Texts = packTexts(TEXT_FIELDS.map((f) => strings[f])),
  ) {
    this.text = Buffer.from(texts.bytes.buffer, texts.bytes.byteOffset, texts.bytes.byteLength);
    this.textOffsets = texts.offsets;
    this.n = texts.offsets.length / TEXT_FIELDS.length - 1;
    // The terms, sorted (as built, and as serialised): a term's number is its position.
    this.vocabulary = new SortedVocabulary(strings.terms);
    this.s = { ...strings, ids: [], names: [], titles: [], descriptions: [], terms: [] };
  }

  /** Card string `field` of document `d`. */
  private textOf(field: 0 | 1 | 2 | 3, d: number): string {
    const at = field * (this.n + 1) + d;
    return this.text.toString('utf8', this.textOffsets[at]!, this.textOffsets[at + 1]!);
  }

  /** Every string of the index, as the serialised header lists them. */
  private allStrings(): Strings {
    const column = (f: 0 | 1 | 2 | 3) =>
      Array.from({ length: this.n }, (_, d) => this.textOf(f, d));
    const terms = [...this.vocabulary.terms];
    return {
      ...this.s,
      ids: column(0),
      names: column(1),
      titles: column(2),
      descriptions: column(3),
      terms,
    };
  }

  static build(version: number, products: DataProduct[]): MiniSearchCatalog {
    const sorted = [...products].sort((a, b) => compare(a.id, b.id));
    const n = sorted.length;
    const fieldLength = new Uint16Array(n * F);
    const totals = new Array<number>(F).fill(0);
    // Per term, its postings as they come (document order): [doc, freqs, doc, freqs, ...].
    const postings = new Map<string, number[]>();
    sorted.forEach((p, doc) => {
      const perDoc = new Map<string, number>();
      fieldTexts(p).forEach((text, f) => {
        const tokens = tokenize(text);
        const unique = Math.min(new Set(tokens).size, 0xffff);
        fieldLength[doc * F + f] = unique;
        totals[f]! += unique;
        for (const t of tokens) {
          const packed = perDoc.get(t) ?? 0;
          if (((packed >>> (8 * f)) & 0xff) < 0xff) perDoc.set(t, packed + 2 ** (8 * f));
        }
      });
      for (const [t, packed] of perDoc) {
        let list = postings.get(t);
        if (!list) postings.set(t, (list = []));
        list.push(doc, packed);
      }
    });
    const terms = [...postings.keys()].sort(compare);
    const count = terms.reduce((sum, t) => sum + postings.get(t)!.length / 2, 0);
    const postOffsets = new Uint32Array(terms.length + 1);
    const postDocs = new Uint32Array(count);
    const postFreqs = new Uint32Array(count);
    const docFreq = new Uint32Array(terms.length * F);
    let at = 0;
    terms.forEach((t, i) => {
      postOffsets[i] = at;
      const list = postings.get(t)!;
      for (let j = 0; j < list.length; j += 2) {
        postDocs[at] = list[j]!;
        const packed = list[j + 1]!;
        postFreqs[at++] = packed;
        for (let f = 0; f < F; f++) if ((packed >>> (8 * f)) & 0xff) docFreq[i * F + f]!++;
      }
    });
    postOffsets[terms.length] = at;

    const domains = intern(sorted.map((p) => p.domain));
    const owners = intern(sorted.map((p) => p.owner));
    const classifications = intern(sorted.map((p) => p.classification));
    const statuses = intern(sorted.map((p) => p.status));
    const tags = intern(sorted.flatMap((p) => p.tags));
    const tagOffsets = new Uint32Array(n + 1);
    sorted.forEach((p, d) => (tagOffsets[d + 1] = tagOffsets[d]! + p.tags.length));
    return new MiniSearchCatalog(
      version,
      {
        ids: sorted.map((p) => p.id),
        names: sorted.map((p) => p.name),
        titles: sorted.map((p) => p.title),
        descriptions: sorted.map((p) => p.description),
        domains: domains.table,
        owners: owners.table,
        classifications: classifications.table,
        statuses: statuses.table,
        tags: tags.table,
        terms,
      },
      {
        domain: domains.refs,
        owner: owners.refs,
        classification: classifications.refs,
        status: statuses.refs,
        pii: Uint8Array.from(sorted, (p) => (p.columns.some((c) => c.pii) ? 1 : 0)),
        tagOffsets,
        tagIds: tags.refs,
        fieldLength,
        postOffsets,
        postDocs,
        postFreqs,
        docFreq,
      },
      totals.map((t) => (n ? t / n : 0)),
    );
  }

  /** The index as one buffer: a 4-byte header length, the JSON header, then the arrays. */
  serialise(): Buffer {
    const lengths = Object.fromEntries(
      Object.keys(ARRAYS).map((k) => [k, this.a[k as ArrayName].length]),
    ) as Record<ArrayName, number>;
    const header: Header = {
      format: INDEX_FORMAT,
      version: this.version,
      avgFieldLength: this.avgFieldLength,
      strings: this.allStrings(),
      lengths,
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const parts: Buffer[] = [Buffer.alloc(4), json];
    parts[0]!.writeUInt32LE(json.length);
    let size = 4 + json.length;
    const pad = () => {
      const extra = (4 - (size % 4)) % 4;
      if (extra) parts.push(Buffer.alloc(extra));
      size += extra;
    };
    for (const k of Object.keys(ARRAYS) as ArrayName[]) {
      pad();
      const arr = this.a[k];
      const bytes = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
      parts.push(bytes);
      size += bytes.length;
    }
    return Buffer.concat(parts, size);
  }

  /** Loads what `serialise` wrote (the arrays are copied out: the buffer can go). */
  static load(buf: Buffer): MiniSearchCatalog {
    return MiniSearchCatalog.fromParts(splitSerialised(buf, ARRAYS, INDEX_FORMAT));
  }

  /** The index of the parts `splitSerialised` read (in this process or in a worker). */
  static fromParts(parts: SerialisedParts): MiniSearchCatalog {
    const { header, arrays } = parts;
    if (header.format !== INDEX_FORMAT)
      throw new Error(`unknown search index format ${String(header.format)}`);
    for (const k of Object.keys(ARRAYS) as ArrayName[])
      if (arrays[k]?.length !== header.lengths[k])
        throw new Error(`search index: array ${k} is not of its recorded length`);
    const { texts } = parts;
    if (texts.offsets.length !== TEXT_FIELDS.length * (arrays.domain.length + 1))
      throw new Error('search index: card strings not of the recorded length');
    return new MiniSearchCatalog(
      header.version,
      header.strings,
      arrays as unknown as Arrays,
      header.avgFieldLength,
      texts,
    );
  }

  get size(): number {
    return this.n;
  }

  /** Bytes held outside the JavaScript heap: the typed arrays and the cards' packed text. */
  get arrayBytes(): number {
    const arrays = Object.values(this.a).reduce((sum, arr) => sum + arr.byteLength, 0);
    return arrays + this.text.byteLength + this.textOffsets.byteLength;
  }

  /** The summary of document `d`, for a result card. */
  summaryOf(d: number): ProductSummary {
    const { s, a } = this;
    return {
      id: this.textOf(0, d),
      domain: s.domains[a.domain[d]!]!,
      name: this.textOf(1, d),
      title: this.textOf(2, d),
      description: this.textOf(3, d),
      owner: s.owners[a.owner[d]!]!,
      classification: s.classifications[a.classification[d]!]! as ProductSummary['classification'],
      tags: this.tagsOf(d),
      status: s.statuses[a.status[d]!]! as ProductSummary['status'],
      pii: a.pii[d] === 1,
    };
  }

  private tagsOf(d: number): string[] {
    const out: string[] = [];
    for (let i = this.a.tagOffsets[d]!; i < this.a.tagOffsets[d + 1]!; i++)
      out.push(this.s.tags[this.a.tagIds[i]!]!);
    return out;
  }

  /** Adds `weight` times the BM25+ score of term `t` to `scores`, noting the documents touched. */
  private addTerm(t: number, weight: number, scores: Float64Array, touched: number[]) {
    const { a } = this;
    const n = this.size;
    const from = a.postOffsets[t]!;
    const to = a.postOffsets[t + 1]!;
    for (let f = 0; f < F; f++) {
      const df = a.docFreq[t * F + f]!;
      if (!df) continue;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      const avg = this.avgFieldLength[f]!;
      const w = weight * BOOST[f]!;
      const shift = 8 * f;
      for (let p = from; p < to; p++) {
        const tf = (a.postFreqs[p]! >>> shift) & 0xff;
        if (!tf) continue;
        const d = a.postDocs[p]!;
        const len = a.fieldLength[d * F + f]!;
        const raw =
          idf *
          (BM25.d + (tf * (BM25.k + 1)) / (tf + BM25.k * (1 - BM25.b + (BM25.b * len) / avg)));
        if (scores[d] === 0) touched.push(d);
        scores[d]! += w * raw;
      }
    }
  }

  /**
   * Per-document work arrays of one search, made once per index and handed back zeroed (a search
   * runs to its end synchronously): a search no longer allocates and clears arrays the size of
   * the catalog, only touches the documents its words match.
   */
  private scratch?: {
    total: Float64Array;
    matched: Uint16Array;
    scores: Float64Array;
    /** Documents the caller holds (the access facet), marked for one search. */
    held: Uint8Array;
    /** Per tag, the last document it was counted for (+1): a document's tags count once. */
    tagSeen: Uint32Array;
  };

  private work() {
    const n = this.size;
    return (this.scratch ??= {
      total: new Float64Array(n),
      matched: new Uint16Array(n),
      scores: new Float64Array(n),
      held: new Uint8Array(n),
      tagSeen: new Uint32Array(this.s.tags.length),
    });
  }

  /** The document numbers of a set of product ids, kept while the set is (a caller's held set is kept). */
  private readonly heldDocs = new WeakMap<ReadonlySet<string>, number[]>();

  private docsOf(ids: ReadonlySet<string>): number[] {
    let docs = this.heldDocs.get(ids);
    if (!docs) {
      docs = [...new Set([...ids].map((id) => this.docOf(id)).filter((d) => d >= 0))];
      this.heldDocs.set(ids, docs);
    }
    return docs;
  }

  /** The product id of document `d`. */
  idOf(d: number): string {
    return this.textOf(0, d);
  }

  /** How many documents have an id up to `id` (ids are sorted): the first with a greater one. */
  docsUpTo(id: string): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.textOf(0, mid), id) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Document number of a product id (ids are sorted), or -1. */
  private docOf(id: string): number {
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compare(this.textOf(0, mid), id);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * Every document matching all the words of `text`, with its score, in no particular order:
   * ordering (best first, equal scores by id) is left to the page asked for (`Hits`).
   */
  private ranked(text: string): { docs: number[]; scores: Float64Array } | undefined {
    const words = tokenize(text);
    if (words.length === 0) return undefined;
    const { total, matched, scores } = this.work();
    let first: number[] = [];
    let last: number[] = [];
    try {
      for (const [i, word] of words.entries()) {
        const touched: number[] = [];
        const exact = this.vocabulary.get(word);
        if (exact !== undefined) this.addTerm(exact, 1, scores, touched);
        const distance = fuzzyOf(word);
        const fuzzy = distance ? this.vocabulary.fuzzyGet(word, distance) : undefined;
        if (prefixOf(word)) {
          for (const [term, t] of this.vocabulary.atPrefix(word)) {
            const extra = term.length - word.length;
            if (!extra) continue;
            // A prefix match is always scored as one, not also as a fuzzy one.
            fuzzy?.delete(term);
            this.addTerm(
              t,
              (PREFIX_WEIGHT * term.length) / (term.length + 0.3 * extra),
              scores,
              touched,
            );
          }
        }
        if (fuzzy)
          for (const [term, [t, edits]] of fuzzy) {
            if (!edits) continue;
            this.addTerm(t, (FUZZY_WEIGHT * term.length) / (term.length + edits), scores, touched);
          }
        // Every word must match: keep the documents that matched all the words so far.
        if (i === 0) first = touched;
        last = [];
        for (const d of touched) {
          if (matched[d] === i) {
            matched[d] = i + 1;
            total[d]! += scores[d]!;
            last.push(d);
          }
          scores[d] = 0;
        }
        if (last.length === 0) return { docs: [], scores: new Float64Array(0) };
      }
      const out = new Float64Array(last.length);
      last.forEach((d, j) => (out[j] = total[d]!));
      return { docs: last, scores: out };
    } finally {
      // Only the first word's documents can have been marked (later words keep a subset).
      for (const d of first) {
        matched[d] = 0;
        total[d] = 0;
      }
    }
  }

  search(s: CatalogSearch, held: ReadonlySet<string>): SearchResult {
    const text = s.q?.trim();
    const found = text ? this.ranked(text) : undefined;
    const candidates: ArrayLike<number> = text
      ? (found?.docs ?? [])
      : Uint32Array.from({ length: this.size }, (_, i) => i);
    const work = this.work();
    // The caller's products, as document numbers (marked for this search, unmarked after).
    const heldDocs = this.docsOf(held);
    for (const d of heldDocs) work.held[d] = 1;
    try {
      return this.filterAndCount(s, candidates, found?.scores, work);
    } finally {
      for (const d of heldDocs) work.held[d] = 0;
    }
  }

  /** Interned value number of a facet's chosen value (-1: no product has it). */
  private chosenValue(f: FacetName, v: string): number {
    const str = this.s;
    switch (f) {
      case 'domain':
        return str.domains.indexOf(v);
      case 'classification':
        return str.classifications.indexOf(v);
      case 'tag':
        return str.tags.indexOf(v);
      case 'owner':
        return str.owners.indexOf(v);
      case 'pii':
      case 'access':
        return v === 'true' ? 1 : v === 'false' ? 0 : -1;
    }
  }

  private filterAndCount(
    s: CatalogSearch,
    candidates: ArrayLike<number>,
    scores: Float64Array | undefined,
    work: NonNullable<MiniSearchCatalog['scratch']>,
  ): SearchResult {
    const { a } = this;
    const str = this.s;
    const wanted: Partial<Record<FacetName, string>> = {};
    for (const f of FACETS) {
      const v = s[f];
      if (v !== undefined) wanted[f] = String(v);
    }
    const active = FACETS.filter((f) => wanted[f] !== undefined);
    const chosen = new Int32Array(FACETS.length);
    FACETS.forEach(
      (f, i) => (chosen[i] = wanted[f] === undefined ? -1 : this.chosenValue(f, wanted[f]!)),
    );
    const FI = Object.fromEntries(FACETS.map((f, i) => [f, i])) as Record<FacetName, number>;
    const activeIdx = active.map((f) => FI[f]);
    const held = work.held;
    const valueOf = (d: number, fi: number): number => {
      switch (FACETS[fi]!) {
        case 'domain':
          return a.domain[d]!;
        case 'classification':
          return a.classification[d]!;
        case 'owner':
          return a.owner[d]!;
        case 'pii':
          return a.pii[d]!;
        case 'access':
          return held[d]!;
        case 'tag':
          return -1; // not single-valued: see `passes`
      }
    };
    const passes = (d: number, fi: number): boolean => {
      const want = chosen[fi]!;
      if (want < 0) return false;
      if (FACETS[fi] === 'tag') {
        for (let i = a.tagOffsets[d]!; i < a.tagOffsets[d + 1]!; i++)
          if (a.tagIds[i] === want) return true;
        return false;
      }
      return valueOf(d, fi) === want;
    };
    // Counts by interned value number (tags: distinct per document), then named.
    const counts = [
      new Uint32Array(str.domains.length),
      new Uint32Array(str.classifications.length),
      new Uint32Array(str.tags.length),
      new Uint32Array(str.owners.length),
      new Uint32Array(2),
      new Uint32Array(2),
    ];
    const TAG = FI.tag;
    const tagSeen = work.tagSeen;
    let stamp = 0;
    const count = (d: number, fi: number) => {
      if (fi !== TAG) {
        counts[fi]![valueOf(d, fi)]!++;
        return;
      }
      stamp++;
      for (let i = a.tagOffsets[d]!; i < a.tagOffsets[d + 1]!; i++) {
        const t = a.tagIds[i]!;
        if (tagSeen[t] !== stamp) {
          tagSeen[t] = stamp;
          counts[TAG]![t]!++;
        }
      }
    };
    const matches: number[] = [];
    const matchScores: number[] = [];
    try {
      for (let i = 0; i < candidates.length; i++) {
        const d = candidates[i]!;
        // Which filters it fails: it counts for a facet when it passes all the others.
        let failed = -1;
        let failures = 0;
        for (const fi of activeIdx)
          if (!passes(d, fi)) {
            failed = fi;
            if (++failures > 1) break;
          }
        if (failures === 0) {
          matches.push(d);
          if (scores) matchScores.push(scores[i]!);
          for (let fi = 0; fi < FACETS.length; fi++) count(d, fi);
        } else if (failures === 1) count(d, failed);
      }
    } finally {
      tagSeen.fill(0);
    }
    const named = (f: FacetName, v: number): string => {
      switch (f) {
        case 'domain':
          return str.domains[v]!;
        case 'classification':
          return str.classifications[v]!;
        case 'tag':
          return str.tags[v]!;
        case 'owner':
          return str.owners[v]!;
        case 'pii':
        case 'access':
          return String(v === 1);
      }
    };
    const facets = Object.fromEntries(
      FACETS.map((f, fi) => {
        const byName = new Map<string, number>();
        const c = counts[fi]!;
        for (let v = 0; v < c.length; v++) if (c[v]) byName.set(named(f, v), c[v]!);
        return [f, topValues(byName, wanted[f])];
      }),
    ) as Record<FacetName, FacetCount[]>;
    return new Hits(
      this,
      Uint32Array.from(matches),
      scores ? Float64Array.from(matchScores) : undefined,
      facets,
    );
  }
}

/**
 * The matches of one search: their document numbers (and scores, for a search with text),
 * summaries made per page. Ranked best first, equal scores by document (id) order; only as far
 * as a page asks: the best `to` are picked out of the matches, then sorted, so a page of 50 out
 * of thousands of matches does not sort them all.
 */
class Hits implements SearchResult {
  readonly #index: MiniSearchCatalog;
  /** The matches in rank order up to `#ranked` (all of them when there is no text). */
  #order: Uint32Array;
  /** Their scores, in that order (a search with text). */
  #orderScores?: Float64Array;
  #ranked: number;
  constructor(
    index: MiniSearchCatalog,
    readonly docs: Uint32Array,
    private readonly scores: Float64Array | undefined,
    readonly facets: Record<FacetName, FacetCount[]>,
  ) {
    this.#index = index;
    this.#order = docs;
    this.#ranked = scores ? 0 : docs.length;
  }

  get total(): number {
    return this.docs.length;
  }

  /** The first `k` matches in rank order. */
  private best(k: number): Uint32Array {
    const { docs, scores } = this;
    if (k <= this.#ranked || !scores) return this.#order;
    const n = docs.length;
    // Better: higher score, then lower document number.
    const better = (i: number, j: number) =>
      scores[i]! > scores[j]! || (scores[i] === scores[j] && docs[i]! < docs[j]!);
    let picked: number[];
    if (k >= n / 4) {
      picked = Array.from({ length: n }, (_, i) => i);
    } else {
      // A heap of the best k (worst on top), then sorted.
      const heap: number[] = [];
      const worse = (x: number, y: number) => better(y, x);
      const up = (i: number) => {
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (!worse(heap[i]!, heap[p]!)) break;
          [heap[i], heap[p]] = [heap[p]!, heap[i]!];
          i = p;
        }
      };
      const down = (i: number) => {
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
          if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
          if (m === i) return;
          [heap[i], heap[m]] = [heap[m]!, heap[i]!];
          i = m;
        }
      };
      for (let i = 0; i < n; i++) {
        if (heap.length < k) {
          heap.push(i);
          up(heap.length - 1);
        } else if (better(i, heap[0]!)) {
          heap[0] = i;
          down(0);
        }
      }
      picked = heap;
    }
    picked.sort((i, j) => (better(i, j) ? -1 : better(j, i) ? 1 : 0));
    this.#order = Uint32Array.from(picked, (i) => docs[i]!);
    this.#orderScores = Float64Array.from(picked, (i) => scores[i]!);
    this.#ranked = picked.length;
    return this.#order;
  }

  /**
   * The matches ranked after `key`: with a lower score, or the same score and a greater id (a
   * key without a score, in a search with text, ranks before every match). Document numbers
   * follow ids, so "a greater id" is "a document number from `docsUpTo(key.id)` on". The key's
   * own product never: on a newer index its score may have fallen below the key's.
   */
  private rest(key: RankKey): Hits {
    const { docs, scores } = this;
    const cut = this.#index.docsUpTo(key.id);
    if (!scores) {
      // Without text the matches are in document order.
      let lo = 0;
      let hi = docs.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (docs[mid]! < cut) lo = mid + 1;
        else hi = mid;
      }
      return new Hits(this.#index, docs.subarray(lo), undefined, this.facets);
    }
    const score = key.score ?? Number.POSITIVE_INFINITY;
    // The key's own document, if it is still in the index (ids up to the key's: it is the last).
    const own = cut > 0 && this.#index.idOf(cut - 1) === key.id ? cut - 1 : -1;
    // One pass into arrays of the matches' size (a page deep in a broad search keeps most).
    const keptDocs = new Uint32Array(docs.length);
    const keptScores = new Float64Array(docs.length);
    let m = 0;
    for (let i = 0; i < docs.length; i++) {
      const s = scores[i]!;
      const d = docs[i]!;
      if ((s < score && d !== own) || (s === score && d >= cut)) {
        keptDocs[m] = d;
        keptScores[m++] = s;
      }
    }
    return new Hits(this.#index, keptDocs.subarray(0, m), keptScores.subarray(0, m), this.facets);
  }

  after(key: RankKey | undefined, limit: number) {
    const rest = key ? this.rest(key) : this;
    const end = Math.min(limit, rest.docs.length);
    const order = rest.best(end).subarray(0, end);
    const items = [...order].map((d) => this.#index.summaryOf(d));
    const last = items[end - 1];
    return {
      items,
      ...(last && {
        last: {
          ...(rest.#orderScores && { score: rest.#orderScores[end - 1]! }),
          id: last.id,
        },
      }),
      more: rest.docs.length > end,
    };
  }

  get matches(): ProductSummary[] {
    return [...this.best(this.docs.length)].map((d) => this.#index.summaryOf(d));
  }
}

/** Most frequent first (then by value), at most MAX_FACET_VALUES, always with the chosen one. */
function topValues(m: Map<string, number>, chosen: string | undefined): FacetCount[] {
  let all = [...m].map(([value, count]) => ({ value, count }));
  if (all.length > 4 * MAX_FACET_VALUES) {
    // Only values counted at least as often as the MAX_FACET_VALUES-th can be among the first.
    const counts = Float64Array.from(all, (c) => c.count).sort();
    const least = counts[counts.length - MAX_FACET_VALUES]!;
    all = all.filter((c) => c.count >= least);
  }
  all.sort((a, b) => b.count - a.count || compare(a.value, b.value));
  const top = all.slice(0, MAX_FACET_VALUES);
  if (chosen !== undefined && !top.some((c) => c.value === chosen))
    top.push({ value: chosen, count: m.get(chosen) ?? 0 });
  return top;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
