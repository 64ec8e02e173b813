/// <reference lib="dom" />
/** A tiny element builder: the console is plain DOM, no framework. */
type Attr = string | number | boolean | null | undefined | ((event: Event) => void);
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, Attr> = {}, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === 'value' || name === 'checked') (element as unknown as Record<string, unknown>)[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Array<Child | Child[]>): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function replaceChildren(parent: Element, ...children: Array<Child | Child[]>): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A modal <dialog> (Esc closes it; focus stays inside): resolves with the button value chosen. */
export function ask(title: string, body: Array<Child | Child[]>, buttons: Array<{ label: string; value: string; kind?: string }>): Promise<string> {
  return new Promise((resolve) => {
    const id = `dialog-title-${Math.random().toString(36).slice(2)}`;
    const dialog = h('dialog', { 'aria-labelledby': id }, h('h2', { id }, title), ...body);
    const row = h('div', { class: 'actions' });
    for (const button of buttons) {
      row.append(h('button', { type: 'button', class: button.kind ?? '', 'data-value': button.value, onclick: () => dialog.close(button.value) }, button.label));
    }
    dialog.append(row);
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue || 'cancel');
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
