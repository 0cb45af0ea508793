import { ConfigError, parseAdminTokens } from '@assigner/config';

describe('parseAdminTokens (ADMIN_API_TOKENS)', () => {
  it('reads name:role:secret entries', () => {
    expect(
      parseAdminTokens(' ops:editor:0123456789abcdef , bi:reader:abcdefghij0123456789+/= '),
    ).toEqual([
      { name: 'ops', role: 'editor', secret: '0123456789abcdef' },
      { name: 'bi', role: 'reader', secret: 'abcdefghij0123456789+/=' },
    ]);
  });

  it('names every bad entry and never repeats a secret', () => {
    const attempt = () =>
      parseAdminTokens('ops:admin:tiny,:reader:fedcba9876543210,bi:reader:fedcba9876543210');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      'Invalid configuration: ADMIN_API_TOKENS entry 1 (ops): role must be reader or editor, ' +
        'secret must be 16-512 characters of letters, digits and ._~+/=-; ' +
        'entry 2: name must be 1-64 letters, digits, "_", ".", "@" or "-"; ' +
        'entry 3 (bi): secret is used twice',
    );
    expect(attempt).not.toThrow(/tiny|fedcba/);
  });

  it('needs at least one token', () => {
    expect(() => parseAdminTokens(' , ')).toThrow(/ADMIN_API_TOKENS must list at least one/);
  });
});
