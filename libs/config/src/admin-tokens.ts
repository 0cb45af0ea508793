import { ConfigError } from './app-config';

export const ADMIN_ROLES = ['reader', 'editor'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** A bearer token of the admin API: its name is what audits and logs show, never its secret. */
export interface AdminToken {
  name: string;
  role: AdminRole;
  secret: string;
}

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;
const SECRET = /^[A-Za-z0-9._~+/=-]{16,512}$/;

/**
 * Parses ADMIN_API_TOKENS, a comma-separated list of `name:role:secret` (role reader or editor,
 * secret at least 16 URL-safe characters). Every problem is reported by entry number and name;
 * secrets never appear in the message.
 */
export function parseAdminTokens(value: string): AdminToken[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0)
    throw new ConfigError(
      'Invalid configuration: ADMIN_API_TOKENS must list at least one token as name:role:secret (not set)',
    );
  const problems: string[] = [];
  const tokens: AdminToken[] = [];
  const names = new Set<string>();
  const secrets = new Set<string>();
  entries.forEach((entry, index) => {
    const [name = '', role = '', ...rest] = entry.split(':');
    const secret = rest.join(':');
    const label = `entry ${index + 1}${NAME.test(name) ? ` (${name})` : ''}`;
    const own: string[] = [];
    if (!NAME.test(name)) own.push('name must be 1-64 letters, digits, "_", ".", "@" or "-"');
    if (!(ADMIN_ROLES as readonly string[]).includes(role))
      own.push(`role must be ${ADMIN_ROLES.join(' or ')}`);
    if (!SECRET.test(secret))
      own.push('secret must be 16-512 characters of letters, digits and ._~+/=-');
    if (names.has(name)) own.push('name is used twice');
    if (secrets.has(secret)) own.push('secret is used twice');
    names.add(name);
    secrets.add(secret);
    if (own.length > 0) problems.push(`${label}: ${own.join(', ')}`);
    else tokens.push({ name, role: role as AdminRole, secret });
  });
  if (problems.length > 0)
    throw new ConfigError(`Invalid configuration: ADMIN_API_TOKENS ${problems.join('; ')}`);
  return tokens;
}
