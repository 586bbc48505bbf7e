import { randomBytes } from 'node:crypto';
import { CursorCodec, cursorScope } from '../../functions/domain/paging';

const codec = new CursorCodec(randomBytes(32));
const scope = cursorScope('requests', 'alice', { status: 'ACTIVE', limit: 10 });

describe('cursors', () => {
  it('give back the position they were sealed with, for the same listing', () => {
    const c = codec.seal(scope, { k: { pk: 'REQUEST#1' } });
    expect(
      codec.open(cursorScope('requests', 'alice', { limit: 50, status: 'ACTIVE' }), c),
    ).toEqual({
      k: { pk: 'REQUEST#1' },
    });
  });

  it.each([
    ['another caller', cursorScope('requests', 'bob', { status: 'ACTIVE' })],
    ['other filters', cursorScope('requests', 'alice', { status: 'PENDING' })],
    ['another listing', cursorScope('grants', 'alice', { status: 'ACTIVE' })],
  ])('are refused for %s', (_, other) => {
    const c = codec.seal(scope, 1);
    expect(() => codec.open(other, c)).toThrow(expect.objectContaining({ code: 'BAD_CURSOR' }));
  });

  it.each([
    [
      'a changed position',
      (c: string) => `${Buffer.from('2').toString('base64url')}${c.slice(c.indexOf('.'))}`,
    ],
    ['a truncated signature', (c: string) => c.slice(0, -3)],
    ['no signature', (c: string) => c.slice(0, c.indexOf('.'))],
    ['garbage', () => '%%%.###'],
    [
      'another key',
      (c: string) =>
        c.replace(/\..*/, `.${new CursorCodec(randomBytes(32)).seal(scope, 1).split('.')[1]}`),
    ],
  ])('refuse %s with BAD_CURSOR', (_, forge) => {
    const c = codec.seal(scope, 1);
    expect(() => codec.open(scope, forge(c))).toThrow(
      expect.objectContaining({ code: 'BAD_CURSOR', kind: 'validation' }),
    );
  });

  it('need a key of at least 32 bytes', () => {
    expect(() => new CursorCodec(randomBytes(16))).toThrow();
  });
});
