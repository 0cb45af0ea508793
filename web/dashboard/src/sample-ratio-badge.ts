import type { SampleRatioCheck } from '@assigner/domain';
import { el } from './dom';

/** Red when the API's check says mismatch (p below 0.001), green otherwise, grey without data. */
export function sampleRatioBadge(check: SampleRatioCheck | null): HTMLElement {
  if (!check || check.total === 0)
    return el('span', { className: 'badge', data: { srm: 'none' } }, 'no data');
  const p = formatP(check.pValue);
  return check.mismatch
    ? el(
        'span',
        { className: 'badge alarm', data: { srm: 'mismatch', p: String(check.pValue) } },
        `mismatch, p = ${p}`,
      )
    : el(
        'span',
        { className: 'badge ok', data: { srm: 'ok', p: String(check.pValue) } },
        `ok, p = ${p}`,
      );
}

export function formatP(p: number): string {
  if (p === 0) return '< 1e-300';
  return p < 0.0001 ? p.toExponential(2) : p.toFixed(4);
}
