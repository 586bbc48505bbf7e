import { createHash } from 'node:crypto';
import { csvHeader, csvRow, jsonlRow } from '../../functions/domain/export-format';
import { GOLDEN_EVENTS } from '../support/export-golden';

// The exported bytes of a few events, pinned: any change to the export formats (or to how fast
// they are built) must leave these exactly as they are. New columns are only ever appended, and
// appending one is a deliberate change of these pins.

const CSV_ROWS = [
  '2026-03-01T10:00:00.000Z,evt_01jx0000000000000000000001,REQUEST_CREATED,alice,sales,req_01jx0000000000000000000001,sales/orders,,PENDING,"{""purpose"":""Quarterly campaign attribution"",""principal"":""arn:aws:iam::555555555555:role/analyst"",""scope"":{""permissions"":[""SELECT""],""columns"":{""mode"":""exclude"",""columns"":[""email"",""phone""]}},""duration"":{""value"":7,""unit"":""days""}}",sales,1,0000000000000000000000000000000000000000000000000000000000000000,3f9a1c0d5e7b2468ace13579bdf02468ace13579bdf02468ace13579bdf02468\r\n',
  '2026-03-01T10:05:00.250Z,evt_01jx0000000000000000000002,GRANT_ACTIVE,meshgate,sales,req_01jx0000000000000000000001,sales/orders,GRANTING,ACTIVE,"{""grantId"":""grt_01jx0000000000000000000001"",""entries"":[{""action"":""grant"",""catalogId"":""111111111111"",""database"":""sales_gold"",""table"":""orders"",""permissions"":[""SELECT""],""result"":""ok""}]}",sales,2,3f9a1c0d5e7b2468ace13579bdf02468ace13579bdf02468ace13579bdf02468,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n',
  '2026-03-02T00:00:00.000Z,evt_01jx0000000000000000000003,FULFILMENT_STARTED,meshgate,finance,req_01jx0000000000000000000003,finance/fx_rates,APPROVED,GRANTING,{},,,,\r\n',
  '2026-03-02T08:30:00.000Z,evt_01jx0000000000000000000004,MEMBERSHIP_ADDED,erin,*,,,,,"{""user"":""sam"",""role"":""steward""}",*,12,bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\r\n',
  '2026-03-03T12:00:00.000Z,evt_01jx0000000000000000000005,\'-REQUEST_DENIED,\'=cmd|/c calc!A0,\'@sales,req_01jx0000000000000000000005,"sales/leads, ""raw""",PENDING,DENIED,"{""2"":""two"",""10"":""ten"",""reason"":""use the aggregated view,\\r\\nnot \\""raw\\"" =1+1"",""b"":2,""a"":[3,1,2],""none"":null,""yes"":true}",,,,\r\n',
  '2026-03-04T09:00:00.000Z,evt_01jx0000000000000000000006,APPROVAL_RECORDED,Zo\u00eb,marketing,req_01jx0000000000000000000006,marketing/campaign_touches,,,"{""comment"":""ok f\u00fcr Q3 \u2014 \u6570\u636e \ud83d\ude80"",""tab"":""\\tx"",""lone"":""\\ud800"",""back"":""a\\\\b""}",,,,\r\n',
  '2026-03-04T09:00:01.000Z,evt_01jx0000000000000000000007,SYNC_COMPLETED,\'+meshgate,hr\tpeople,,,,,"{""added"":1,""updated"":0,""retired"":2}",hr,\'-3,,\r\n',
];

const JSONL_ROWS = [
  '{"at":"2026-03-01T10:00:00.000Z","id":"evt_01jx0000000000000000000001","type":"REQUEST_CREATED","actor":"alice","domain":"sales","requestId":"req_01jx0000000000000000000001","productId":"sales/orders","toStatus":"PENDING","detail":{"purpose":"Quarterly campaign attribution","principal":"arn:aws:iam::555555555555:role/analyst","scope":{"permissions":["SELECT"],"columns":{"mode":"exclude","columns":["email","phone"]}},"duration":{"value":7,"unit":"days"}},"chain":"sales","seq":1,"prevHash":"0000000000000000000000000000000000000000000000000000000000000000","hash":"3f9a1c0d5e7b2468ace13579bdf02468ace13579bdf02468ace13579bdf02468"}\n',
  '{"at":"2026-03-01T10:05:00.250Z","id":"evt_01jx0000000000000000000002","type":"GRANT_ACTIVE","actor":"meshgate","domain":"sales","requestId":"req_01jx0000000000000000000001","productId":"sales/orders","fromStatus":"GRANTING","toStatus":"ACTIVE","detail":{"grantId":"grt_01jx0000000000000000000001","entries":[{"action":"grant","catalogId":"111111111111","database":"sales_gold","table":"orders","permissions":["SELECT"],"result":"ok"}]},"chain":"sales","seq":2,"prevHash":"3f9a1c0d5e7b2468ace13579bdf02468ace13579bdf02468ace13579bdf02468","hash":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}\n',
  '{"at":"2026-03-02T00:00:00.000Z","id":"evt_01jx0000000000000000000003","type":"FULFILMENT_STARTED","actor":"meshgate","domain":"finance","requestId":"req_01jx0000000000000000000003","productId":"finance/fx_rates","fromStatus":"APPROVED","toStatus":"GRANTING","detail":{}}\n',
  '{"at":"2026-03-02T08:30:00.000Z","id":"evt_01jx0000000000000000000004","type":"MEMBERSHIP_ADDED","actor":"erin","domain":"*","detail":{"user":"sam","role":"steward"},"chain":"*","seq":12,"prevHash":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","hash":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"}\n',
  '{"at":"2026-03-03T12:00:00.000Z","id":"evt_01jx0000000000000000000005","type":"-REQUEST_DENIED","actor":"=cmd|/c calc!A0","domain":"@sales","requestId":"req_01jx0000000000000000000005","productId":"sales/leads, \\"raw\\"","fromStatus":"PENDING","toStatus":"DENIED","detail":{"2":"two","10":"ten","reason":"use the aggregated view,\\r\\nnot \\"raw\\" =1+1","b":2,"a":[3,1,2],"none":null,"yes":true}}\n',
  '{"at":"2026-03-04T09:00:00.000Z","id":"evt_01jx0000000000000000000006","type":"APPROVAL_RECORDED","actor":"Zo\u00eb","domain":"marketing","requestId":"req_01jx0000000000000000000006","productId":"marketing/campaign_touches","detail":{"comment":"ok f\u00fcr Q3 \u2014 \u6570\u636e \ud83d\ude80","tab":"\\tx","lone":"\\ud800","back":"a\\\\b"}}\n',
  '{"at":"2026-03-04T09:00:01.000Z","id":"evt_01jx0000000000000000000007","type":"SYNC_COMPLETED","actor":"+meshgate","domain":"hr\\tpeople","detail":{"added":1,"updated":0,"retired":2},"chain":"hr","seq":-3,"extra":"kept"}\n',
];

const sha256 = (text: string) =>
  createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');

test.each(GOLDEN_EVENTS.map((e, i) => [e.id, i] as const))('CSV row of %s', (_, i) => {
  expect(csvRow(GOLDEN_EVENTS[i]!)).toBe(CSV_ROWS[i]);
});

test.each(GOLDEN_EVENTS.map((e, i) => [e.id, i] as const))('JSON Lines row of %s', (_, i) => {
  expect(jsonlRow(GOLDEN_EVENTS[i]!)).toBe(JSONL_ROWS[i]);
});

test('the whole files, as UTF-8 bytes', () => {
  const csv = csvHeader() + GOLDEN_EVENTS.map(csvRow).join('');
  const jsonl = GOLDEN_EVENTS.map(jsonlRow).join('');
  expect([Buffer.byteLength(csv, 'utf8'), sha256(csv)]).toEqual([
    2282,
    'd703646fad668e80296821fddcbe6eedec3ef04559d940c381092004293ea546',
  ]);
  expect([Buffer.byteLength(jsonl, 'utf8'), sha256(jsonl)]).toEqual([
    2787,
    '8aa3508ac9ef0155104f6040e42638a5aeb5eacf831f3d921d15e8cfe70c5c0a',
  ]);
});
