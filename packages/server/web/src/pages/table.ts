/** Tables that become stacked cards at phone width (each cell carries its column name). */
import { h } from '../dom.js';

export interface Column<T> {
  title: string;
  cell: (row: T) => Node | string;
  /** Hidden visually when the heading would only repeat what the cell says (actions). */
  actions?: boolean;
}

export function table<T>(caption: string, columns: Column<T>[], rows: T[], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'sr-only' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c) => h('th', { scope: 'col', class: c.actions ? 'actions' : undefined }, c.title)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((row) =>
          h(
            'tr',
            {},
            columns.map((c) =>
              h('td', { 'data-label': c.title, class: c.actions ? 'actions' : undefined }, c.cell(row)),
            ),
          ),
        ),
      ),
    ),
  );
}
