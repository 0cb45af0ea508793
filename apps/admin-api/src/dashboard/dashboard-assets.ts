import type { ServerResponse } from 'node:http';
import { join } from 'node:path';

/** Where the dashboard is served. */
export const DASHBOARD_PATH = '/dashboard';

/**
 * The bundle `npm run build` makes (dist/web/dashboard), beside the compiled admin API
 * (dist/apps/admin-api/src).
 */
export const DASHBOARD_ASSETS = join(__dirname, '..', '..', '..', '..', 'web', 'dashboard');

/**
 * Scripts and styles only from the API itself (no inline script or style, no CDN), data only from
 * it, no framing; the page sends the token as a header, so no cookie is involved.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function dashboardHeaders(response: ServerResponse): void {
  response.setHeader('Content-Security-Policy', DASHBOARD_CSP);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Cache-Control', 'no-cache');
}
