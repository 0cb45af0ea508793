import type { AdminToken } from '@assigner/config';
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Finds the configured token a request presents. Secrets are compared as SHA-256 digests (equal
 * lengths, so `timingSafeEqual` applies) and every token is compared, so the time taken tells
 * nothing about which secret, or how much of one, matched.
 */
export class TokenVerifier {
  private readonly digests: { token: AdminToken; digest: Buffer }[];

  constructor(tokens: readonly AdminToken[]) {
    this.digests = tokens.map((token) => ({ token, digest: digest(token.secret) }));
  }

  verify(presented: string): AdminToken | undefined {
    const given = digest(presented);
    let found: AdminToken | undefined;
    for (const { token, digest: expected } of this.digests)
      if (timingSafeEqual(given, expected)) found = token;
    return found;
  }
}
