// Every string the page shows goes in as text (textContent), never as HTML: usernames, course
// ids and experiment names come from events and definitions, and may hold markup.

type Child = Node | string | number | null | undefined | false;

export interface ElementOptions {
  className?: string;
  /** Attributes, set with setAttribute (values are text). */
  attributes?: Record<string, string>;
  /** `data-*` attributes, by their name without the prefix. */
  data?: Record<string, string>;
}

/** An element with text and element children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (options?.className) element.className = options.className;
  for (const [name, value] of Object.entries(options?.attributes ?? {}))
    element.setAttribute(name, value);
  for (const [name, value] of Object.entries(options?.data ?? {})) element.dataset[name] = value;
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `parent` shows. */
export function show(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A link to a route of the page (the hash part). */
export function link(route: string, text: string): HTMLAnchorElement {
  return el('a', { attributes: { href: `#${route}` } }, text);
}

export function loading(what: string): HTMLElement {
  return el('p', { className: 'loading', attributes: { role: 'status' } }, `Loading ${what}…`);
}

export function empty(text: string): HTMLElement {
  return el('p', { className: 'empty' }, text);
}

/** A labelled input of a form. */
export function field(
  label: string,
  name: string,
  options: { value?: string; placeholder?: string; required?: boolean; type?: string } = {},
): HTMLLabelElement {
  const input = el('input', {
    attributes: {
      name,
      type: options.type ?? 'text',
      ...(options.placeholder ? { placeholder: options.placeholder } : {}),
      ...(options.required ? { required: '' } : {}),
    },
  });
  input.value = options.value ?? '';
  return el('label', null, label, input);
}

export const formatCount = (count: number): string => count.toLocaleString('en-US');

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
    .replace(/Z$/, ' UTC');
}

/** A text input's value in a form, trimmed. */
export function formText(form: HTMLFormElement, name: string): string {
  const input = form.elements.namedItem(name);
  return input instanceof HTMLInputElement ? input.value.trim() : '';
}

/** A table's head row; titles ending in `#` are number columns (right-aligned), shown without it. */
export function tableHead(...titles: string[]): HTMLTableSectionElement {
  return el(
    'thead',
    null,
    el(
      'tr',
      null,
      ...titles.map((title) =>
        title.endsWith('#')
          ? el('th', { className: 'number', attributes: { scope: 'col' } }, title.slice(0, -1))
          : el('th', { attributes: { scope: 'col' } }, title),
      ),
    ),
  );
}
