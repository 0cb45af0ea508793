import { TokenVerifier } from '../../../apps/admin-api/src/auth/token-verifier';
import { preconditionOf } from '../../../apps/admin-api/src/http/etag';
import { ProblemException } from '../../../apps/admin-api/src/http/problem';

describe('TokenVerifier', () => {
  const verifier = new TokenVerifier([
    { name: 'ops', role: 'editor', secret: 'editor-secret-0123456789' },
    { name: 'bi', role: 'reader', secret: 'reader-secret-0123456789' },
  ]);

  it('finds the token whose secret is presented, and nothing for near misses', () => {
    expect(verifier.verify('reader-secret-0123456789')?.name).toBe('bi');
    expect(verifier.verify('editor-secret-0123456789')?.role).toBe('editor');
    for (const miss of [
      '',
      'editor-secret-012345678',
      'editor-secret-01234567890',
      'EDITOR-secret-0123456789',
    ])
      expect(verifier.verify(miss)).toBeUndefined();
  });
});

describe('preconditionOf (If-Match / If-None-Match)', () => {
  it('reads a quoted revision, "*" and create-only', () => {
    expect(preconditionOf('"12"', undefined)).toEqual({
      kind: 'revision',
      revision: 12,
      header: 'If-Match',
    });
    expect(preconditionOf(' * ', undefined)).toEqual({ kind: 'exists' });
    expect(preconditionOf(undefined, '*')).toEqual({ kind: 'absent' });
    expect(preconditionOf(undefined, undefined)).toEqual({ kind: 'none' });
  });

  it.each([
    ['12', undefined],
    ['W/"12"', undefined],
    ['"1", "2"', undefined],
    [undefined, '"3"'],
    ['"3"', '*'],
  ])('refuses If-Match %s / If-None-Match %s with a 400', (ifMatch, ifNoneMatch) => {
    let thrown: unknown;
    try {
      preconditionOf(ifMatch, ifNoneMatch);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProblemException);
    expect((thrown as ProblemException).getStatus()).toBe(400);
  });
});
