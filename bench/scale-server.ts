// The scale benchmark's server process (bench/scale.ts): one size's embedded portal, built on its
// seeded folder as `npm start` builds it (and started with the start script's environment and node
// flags, by bench/scale.ts), called through app.request(), and nothing else in the
// process, so the RSS it reports is the server's (the embedded store and the API), not the
// benchmark's nor the other size's. Argument: JSON `{ size, dir, reused, auditTo }`. Progress goes to
// stderr (lines starting `scale:`), the figures to stdout as one line (FIGURES + JSON).
import { FIGURES, measureHere, type Size } from './scale';

async function main(arg: string | undefined): Promise<void> {
  if (!arg) throw new Error('usage: scale-server.ts \'{"size":{...},"dir":"...","reused":true}\'');
  const { size, dir, reused, auditTo } = JSON.parse(arg) as {
    size: Size;
    dir: string;
    reused: boolean;
    auditTo?: string;
  };
  const figures = await measureHere(
    size,
    dir,
    reused,
    (m) => console.error(`scale: ${m}`),
    auditTo,
  );
  process.stdout.write(`${FIGURES}${JSON.stringify(figures)}\n`);
}

main(process.argv[2]).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
