import { el, formatCount } from './dom';
import { formatP } from './sample-ratio-badge';

export interface Column {
  title: string;
  /** How cells show and sort: p-values are numbers shown as p-values. */
  kind: 'text' | 'number' | 'p-value';
}

type Cell = string | number;

/**
 * A table whose column headers sort it (click again to reverse), marked with aria-sort. Numbers
 * sort as numbers; NaN (no value) shows as a dash and sorts last.
 */
export function sortableTable(
  columns: readonly Column[],
  rows: readonly Cell[][],
): HTMLTableElement {
  const body = el('tbody', null);
  const headers = columns.map((column, index) => {
    const button = el('button', { attributes: { type: 'button' } }, column.title);
    const header = el(
      'th',
      {
        className: column.kind === 'text' ? '' : 'number',
        attributes: { scope: 'col', 'aria-sort': 'none' },
      },
      button,
    );
    button.addEventListener('click', () => sortBy(index));
    return header;
  });
  let sorted: { column: number; ascending: boolean } | undefined;
  const render = (ordered: readonly Cell[][]) =>
    body.replaceChildren(
      ...ordered.map((row) =>
        el(
          'tr',
          null,
          ...row.map((cell, index) =>
            el(
              'td',
              { className: columns[index]!.kind === 'text' ? '' : 'number' },
              formatCell(cell, columns[index]!),
            ),
          ),
        ),
      ),
    );
  const sortBy = (column: number) => {
    const ascending =
      sorted?.column === column ? !sorted.ascending : columns[column]!.kind === 'text';
    sorted = { column, ascending };
    headers.forEach((header, index) =>
      header.setAttribute(
        'aria-sort',
        index === column ? (ascending ? 'ascending' : 'descending') : 'none',
      ),
    );
    render([...rows].sort((a, b) => compare(a[column]!, b[column]!) * (ascending ? 1 : -1)));
  };
  render(rows);
  return el('table', null, el('thead', null, el('tr', null, ...headers)), body);
}

function compare(a: Cell, b: Cell): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return a - b;
  }
  return String(a).localeCompare(String(b));
}

function formatCell(cell: Cell, column: Column): string {
  if (typeof cell !== 'number') return cell;
  if (Number.isNaN(cell)) return '—';
  if (column.kind === 'p-value') return formatP(cell);
  return formatCount(cell);
}
