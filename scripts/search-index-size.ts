// `npx tsx scripts/search-index-size.ts [--products 100000] [--domains 1000]`: what the catalog's
// search index costs at a given size, on generated products (seeded, so every run indexes the
// same catalog): build time, serialised and stored (gzipped) size, how many table items it takes,
// load time (gunzip, parse, arrays), memory held, and search latency.
import { gunzipSync, gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { CHUNK_BYTES } from '../functions/adapters/aws/dynamo-search-index';
import { MiniSearchCatalog } from '../functions/adapters/search/minisearch-catalog';
import { CLASSIFICATIONS, type DataProduct } from '../functions/domain/model';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const PRODUCTS = arg('products', 100_000);
const DOMAINS = arg('domains', 1_000);

let state = 0x5eed;
const rand = () => {
  state = (state * 1103515245 + 12345) & 0x7fffffff;
  return state / 0x7fffffff;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

// A vocabulary of 5,000 made-up words, drawn with a Zipf-like skew (a few words are common,
// most are rare), as in real catalogs' text.
const SYLLABLES = 'ka to ri mu se na lo pe vi du ga re so ti ba ne mo ku fa li'.split(' ');
const WORDS = Array.from({ length: 5_000 }, (_, i) => {
  let w = '';
  for (let n = i + 7; w.length < 4 || n > 0; n = Math.floor(n / SYLLABLES.length))
    w += SYLLABLES[n % SYLLABLES.length];
  return w;
});
const word = () => WORDS[Math.floor(WORDS.length * rand() ** 3)]!;
const TYPES = ['string', 'bigint', 'decimal(12,2)', 'date', 'timestamp', 'boolean'];
const sentence = (n: number) => Array.from({ length: n }, () => word()).join(' ');

function product(i: number): DataProduct {
  const domain = `domain${String(i % DOMAINS).padStart(4, '0')}`;
  const name = `${word()}_${word()}_${i}`;
  const columns = Array.from({ length: 8 + Math.floor(rand() * 17) }, (_, c) => ({
    name: `${word()}_${c}`,
    type: pick(TYPES),
    comment: sentence(3 + Math.floor(rand() * 6)),
    pii: rand() < 0.1,
  }));
  return {
    id: `${domain}/${name}`,
    domain,
    name,
    title: sentence(3),
    description: sentence(15 + Math.floor(rand() * 25)),
    owner: `owner${Math.floor(rand() * 2000)}`,
    classification: pick(CLASSIFICATIONS),
    tags: Array.from({ length: 1 + Math.floor(rand() * 4) }, () => word()),
    location: { catalogId: '111111111111', database: domain, table: name },
    columns,
    freshness: 'daily',
    status: 'ACTIVE',
  };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const ms = (t: number) => `${t.toFixed(0)} ms`;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

const products = Array.from({ length: PRODUCTS }, (_, i) => product(i));
const sourceBytes = Buffer.byteLength(JSON.stringify(products));

let t = performance.now();
const built = MiniSearchCatalog.build(1, products);
const buildMs = performance.now() - t;
t = performance.now();
const serialised = built.serialise();
const blob = gzipSync(serialised);
const serialiseMs = performance.now() - t;
products.length = 0;

gc();
const heapBefore = process.memoryUsage().heapUsed;
t = performance.now();
const loaded = MiniSearchCatalog.load(gunzipSync(blob));
const loadMs = performance.now() - t;
gc();
// The heap it holds, and its typed arrays (outside the heap, counted exactly).
const heapHeld = process.memoryUsage().heapUsed - heapBefore + loaded.arrayBytes;

// A common word, a typo of one, a prefix, two words, a rare word.
const typo = (w: string) => w.slice(0, 2) + w.slice(3);
const queries = [
  WORDS[0]!,
  typo(WORDS[3]!),
  WORDS[10]!.slice(0, 3),
  `${WORDS[1]} ${WORDS[20]}`,
  WORDS[4000]!,
];
const times: number[] = [];
for (let r = 0; r < 5; r++)
  for (const q of queries) {
    t = performance.now();
    loaded.search({ q }, new Set());
    times.push(performance.now() - t);
  }
t = performance.now();
const facetsOnly = loaded.search({}, new Set());
const browseMs = performance.now() - t;
times.sort((a, b) => a - b);

console.log(`products                       ${PRODUCTS} in ${DOMAINS} domains`);
console.log(`catalog as JSON                ${mb(sourceBytes)}`);
console.log(`build                          ${ms(buildMs)}`);
console.log(`serialise + gzip               ${ms(serialiseMs)}`);
console.log(`index serialised               ${mb(serialised.length)}`);
console.log(
  `index stored (gzip)            ${mb(blob.length)} = ${Math.ceil(blob.length / CHUNK_BYTES)} items of ${CHUNK_BYTES / 1000} KB`,
);
console.log(`load (gunzip, parse, arrays)   ${ms(loadMs)}`);
console.log(
  `memory held by the loaded index ${mb(heapHeld)} (heap and typed arrays)${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for an exact figure)'}`,
);
console.log(
  `search p50 / max (5 queries)   ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms / ${times.at(-1)!.toFixed(1)} ms`,
);
console.log(`browse all with facets         ${ms(browseMs)} (${facetsOnly.total} matches)`);
