/**
 * Verifies an exported audit trail independently of Meshgate: `npm run audit:verify -- <file>`.
 *
 * The file is JSON Lines (one audit event per line, as GET /v1/audit exports) or CSV with a header
 * naming the columns (at,id,type,actor,domain,requestId,productId,fromStatus,toStatus,detail,
 * chain,seq,prevHash,hash; detail as JSON). Exit 0: every chain verifies. Exit 1: tampered, with
 * the first bad event named. Exit 2: usage or unreadable file.
 */
import { readFileSync } from 'node:fs';
import { verifyExport } from '../functions/domain/audit-chain';
import type { AuditEvent } from '../functions/domain/model';

function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function parseCsv(text: string): AuditEvent[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = parseCsvLine(lines[0] ?? '');
  return lines.slice(1).map((line) => {
    const cells = parseCsvLine(line);
    const e: Record<string, unknown> = {};
    header.forEach((h, i) => {
      const v = cells[i];
      if (v === undefined || v === '') return;
      // Undo the export's guard against spreadsheet formulas (a quote before = + - @ tab CR).
      const text =
        v.startsWith("'") && '=+-@\t\r'.includes(v.charAt(1)) && v.length > 1 ? v.slice(1) : v;
      e[h] = h === 'detail' ? JSON.parse(text) : h === 'seq' ? Number(text) : text;
    });
    return e as unknown as AuditEvent;
  });
}

function parse(text: string): AuditEvent[] {
  const first = text.trimStart();
  if (first.startsWith('{')) {
    return text
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as AuditEvent);
  }
  return parseCsv(text);
}

function main(argv: string[]): number {
  const args = argv.filter((a) => a !== '--');
  const file = args[0];
  if (!file || args.length !== 1) {
    console.error('usage: npm run audit:verify -- <export file (.jsonl or .csv)>');
    return 2;
  }
  let events: AuditEvent[];
  try {
    events = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.error(`cannot read ${file}: ${(err as Error).message}`);
    return 2;
  }
  const verdict = verifyExport(events);
  if (verdict.ok) {
    console.log(`OK: ${verdict.events} events in ${verdict.chains.length} chains`);
    return 0;
  }
  const bad = verdict.firstBad!;
  console.log(
    `TAMPERED: ${bad.chain} event ${bad.eventId} (seq ${bad.seq ?? '?'}): ${bad.problem}`,
  );
  return 1;
}

process.exitCode = main(process.argv.slice(2));
