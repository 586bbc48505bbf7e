// The catalogues of error codes and audit event types: one declaration each (domain/errors.ts,
// domain/audit-events.ts), which the HTTP mapping, the OpenAPI document and docs/catalogues.md
// follow.
import { readFileSync } from 'node:fs';
import { AUDIT_EVENT_TYPE_LIST, AUDIT_EVENT_TYPES } from '../../functions/domain/audit-events';
import {
  ERROR_CODE_LIST,
  ERROR_CODES,
  MeshgateError,
  conflict,
  fail,
  notFound,
  validation,
  type ErrorCode,
} from '../../functions/domain/errors';
import type { AuditEvent } from '../../functions/domain/model';
import { createApp, type AppDeps } from '../../functions/http/app';
import { HTTP_CODES, STATUS, statusOf } from '../../functions/http/errors';
import { LakeFormationError } from '../../functions/ports/lakeformation';
import { auditEvent } from '../../functions/usecases/deps';
import { CATALOGUES_DOC, cataloguesDoc } from '../../scripts/catalogues-doc';

describe('error codes', () => {
  test('every code has a status, but HTTP_ERROR, whose status is the framework’s', () => {
    for (const code of ERROR_CODE_LIST) {
      const { kind } = ERROR_CODES[code];
      const status = kind === 'framework' ? undefined : STATUS[kind];
      expect({ code, status: statusOf(code) }).toEqual({ code, status });
      expect({ code, mapped: status !== undefined }).toEqual({
        code,
        mapped: code !== 'HTTP_ERROR',
      });
    }
  });

  test('the codes of the framework’s refusals have the status they stand for', () => {
    for (const [status, code] of Object.entries(HTTP_CODES))
      expect({ code, status: statusOf(code!) }).toEqual({ code, status: Number(status) });
  });

  test('codes are upper case, and every meaning is one line', () => {
    for (const code of ERROR_CODE_LIST) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(ERROR_CODES[code].meaning).toMatch(/^[^\n|]+\.$/);
    }
  });

  test('fail takes its kind from the catalogue; the helpers keep their own', () => {
    const e = fail('STALE_REQUEST', 'changed');
    expect(e).toBeInstanceOf(MeshgateError);
    expect([e.kind, e.code, e.message]).toEqual(['conflict', 'STALE_REQUEST', 'changed']);
    expect(notFound('REQUEST_NOT_FOUND', 'x').kind).toBe('not_found');
    expect(validation('BAD_CURSOR', 'x', { a: 1 }).details).toEqual({ a: 1 });
    expect(conflict('DOMAIN_EXISTS', 'x', 'why').cause).toBe('why');
  });

  test('an unknown code, or a code of another kind, does not compile', () => {
    // @ts-expect-error not in the catalogue
    expect(notFound('NO_SUCH_THING', 'x').code).toBe('NO_SUCH_THING');
    // @ts-expect-error not in the catalogue
    expect(new MeshgateError('conflict', 'NO_SUCH_THING', 'x').code).toBe('NO_SUCH_THING');
    // @ts-expect-error REQUEST_NOT_FOUND is a not_found code, not a conflict
    expect(conflict('REQUEST_NOT_FOUND', 'x').kind).toBe('conflict');
    // @ts-expect-error HTTP_ERROR has no kind of its own: only the HTTP layer uses it
    expect(fail('HTTP_ERROR', 'x').kind).toBe('framework');
    // Lake Formation's codes are another family, passed through as strings.
    const lf = new LakeFormationError('AccessDeniedException', 'denied', true);
    // @ts-expect-error a Lake Formation code is not an ErrorCode
    const code: ErrorCode = lf.code;
    expect(code).toBe('AccessDeniedException');
  });
});

describe('audit event types', () => {
  test('types are upper case, and every meaning is one line', () => {
    for (const type of AUDIT_EVENT_TYPE_LIST) {
      expect(type).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(AUDIT_EVENT_TYPES[type].meaning).toMatch(/^[^\n|]+\.$/);
    }
  });

  test('an unknown type does not compile', () => {
    const deps = { clock: { now: () => new Date(0) }, ids: { next: (p: string) => `${p}_1` } };
    // @ts-expect-error not in the catalogue
    expect(auditEvent(deps, 'NO_SUCH_EVENT', 'x', { domain: 'd' }).type).toBe('NO_SUCH_EVENT');
    // @ts-expect-error not in the catalogue
    const type: AuditEvent['type'] = 'NO_SUCH_EVENT';
    expect(type).toBe('NO_SUCH_EVENT');
  });
});

type OpenApiResponse = { description: string; content?: Record<string, { schema?: unknown }> };

describe('the OpenAPI document publishes both catalogues', () => {
  type Schema = {
    enum?: string[];
    'x-enum-descriptions'?: string[];
    $ref?: string;
    items?: Schema;
    properties?: Record<string, Schema>;
  };
  type Operation = {
    parameters?: { name: string; schema: Schema }[];
    responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  };
  let doc: {
    components: { schemas: Record<string, Schema> };
    paths: Record<string, Record<string, Operation>>;
  };
  beforeAll(async () => {
    // Building the document touches no port.
    const app = createApp({ authenticate: async () => undefined } as unknown as AppDeps);
    doc = await (await app.request('/openapi.json')).json();
  });

  test('ErrorCode: every code, with its meaning', () => {
    const s = doc.components.schemas.ErrorCode!;
    expect(s.enum).toEqual(ERROR_CODE_LIST);
    expect(s['x-enum-descriptions']).toEqual(ERROR_CODE_LIST.map((c) => ERROR_CODES[c].meaning));
    expect(doc.components.schemas.Error!.properties!.error!.properties!.code).toEqual({
      $ref: '#/components/schemas/ErrorCode',
    });
  });

  test('every error response of every route is an Error (one shared response per status)', () => {
    const shared = (doc.components as { responses?: Record<string, OpenApiResponse> }).responses!;
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        for (const [status, ref] of Object.entries(op.responses))
          if (Number(status) >= 400) {
            const name = String((ref as { $ref?: string }).$ref)
              .split('/')
              .pop()!;
            expect({
              at: `${method} ${path} ${status}`,
              schema: shared[name]?.content?.['application/json']?.schema,
            }).toEqual({
              at: `${method} ${path} ${status}`,
              schema: { $ref: '#/components/schemas/Error' },
            });
          }
    // Each names the codes of its status.
    expect(shared.Conflict!.description).toContain('EXTENSION_OPEN');
  });

  test('AuditEventType: every type, with its meaning; the audit list and the export filter use it', () => {
    const ref = { $ref: '#/components/schemas/AuditEventType' };
    const s = doc.components.schemas.AuditEventType!;
    expect(s.enum).toEqual(AUDIT_EVENT_TYPE_LIST);
    expect(s['x-enum-descriptions']).toEqual(
      AUDIT_EVENT_TYPE_LIST.map((t) => AUDIT_EVENT_TYPES[t].meaning),
    );
    expect(doc.components.schemas.AuditEvent!.properties!.type).toEqual(ref);
    expect(
      doc.paths['/v1/audit']!.get!.responses['200']!.content!['application/json']!.schema,
    ).toEqual({ $ref: '#/components/schemas/AuditPage' });
    const filter = doc.paths['/v1/audit/export']!.get!.parameters!.find((p) => p.name === 'type');
    expect(filter!.schema.items).toEqual(ref);
  });
});

test('docs/catalogues.md is made from the declarations (npm run docs:catalogues)', () => {
  expect(readFileSync(CATALOGUES_DOC, 'utf8')).toBe(cataloguesDoc());
});
