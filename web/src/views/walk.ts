// The walk: a linear address split into its fields, CR3 -> PDE -> PTE -> frame
// with every flag decoded, the A/D bits the access would set, and where it
// faults the error code bit by bit and why. The text under it is what
// `pagelab translate` prints for the same access.

import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../../src/hw/fault.js';
import {
  FRAME_MASK,
  PDE_PS,
  PF_ID,
  PF_P,
  PF_RSVD,
  PF_U,
  PF_W,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_PCD,
  PTE_PWT,
  PTE_RW,
  PTE_US,
  describeErrorCode,
  pdIndex,
  ptIndex,
} from '../../../src/hw/paging.js';
import { formatWalk, walkJson } from '../../../src/tools/walkfmt.js';
import type { WalkState } from '../../../src/hw/walk.js';
import { h, hex8 } from '../dom.js';
import { walkWrites, type Target } from '../target.js';

export interface WalkQuery {
  readonly addr: number;
  readonly access: 'read' | 'write' | 'fetch';
  readonly user: boolean;
}

const KINDS: Readonly<Record<WalkQuery['access'], AccessKind>> = {
  read: ACCESS_READ,
  write: ACCESS_WRITE,
  fetch: ACCESS_FETCH,
};

/** The flag bits shown for an entry, low to high; bit 7 is PS in a PDE and PAT in a PTE. */
const BITS: readonly [number, string, string][] = [
  [PTE_P, 'P', 'present'],
  [PTE_RW, 'R/W', 'writable'],
  [PTE_US, 'U/S', 'user-accessible'],
  [PTE_PWT, 'PWT', 'write-through'],
  [PTE_PCD, 'PCD', 'cache disabled'],
  [PTE_A, 'A', 'accessed'],
  [PTE_D, 'D', 'dirty'],
  [PDE_PS, 'PS', 'page size'],
  [PTE_G, 'G', 'global'],
];

/** flagChips shows each flag of an entry as on or off with its meaning. */
function flagChips(value: number, isPde: boolean): HTMLElement {
  const chips = BITS.map(([bit, name, what]) => {
    const label = bit === PDE_PS && !isPde ? 'PAT' : name;
    const on = (value & bit) !== 0;
    return h('span', { class: on ? 'chip on' : 'chip', title: `${label}: ${what}`, 'data-flag': label }, label);
  });
  const avl = (value >>> 9) & 7;
  chips.push(
    h('span', { class: avl !== 0 ? 'chip on' : 'chip', title: 'bits 11:9, ignored by the MMU' }, `AVL=${avl}`),
  );
  return h('div', { class: 'chips' }, ...chips);
}

/** entryCard shows one paging-structure entry: where it is, its value, its flags and where it points. */
function entryCard(title: string, addr: number, value: number, isPde: boolean, points: string): HTMLElement {
  return h(
    'div',
    { class: 'card entry', 'data-entry': title.split(' ')[0] },
    h('div', { class: 'card-title' }, title),
    h('div', {}, 'at ', h('code', {}, hex8(addr)), ' = ', h('code', { class: 'value' }, hex8(value))),
    flagChips(value, isPde),
    h('div', { class: 'points' }, (value & PTE_P) === 0 ? 'not present' : points),
  );
}

/** splitView shows the linear address's fields as the MMU cuts it. */
function splitView(addr: number, large: boolean): HTMLElement {
  const bits = addr.toString(2).padStart(32, '0');
  const field = (cls: string, name: string, from: number, to: number, value: string): HTMLElement =>
    h(
      'div',
      { class: `field ${cls}` },
      h('code', {}, bits.slice(31 - from, 32 - to)),
      h('div', {}, `${name} (bits ${from}:${to})`),
      h('b', {}, value),
    );
  if (large) {
    return h(
      'div',
      { class: 'split' },
      field('f-dir', 'directory', 31, 22, String(pdIndex(addr))),
      field('f-off', 'offset', 21, 0, '0x' + (addr & 0x3fffff).toString(16).toUpperCase()),
    );
  }
  return h(
    'div',
    { class: 'split' },
    field('f-dir', 'directory', 31, 22, String(pdIndex(addr))),
    field('f-tab', 'table', 21, 12, String(ptIndex(addr))),
    field('f-off', 'offset', 11, 0, '0x' + (addr & 0xfff).toString(16).toUpperCase().padStart(3, '0')),
  );
}

/** faultView explains a page-fault error code bit by bit. */
function faultView(code: number, reason: string): HTMLElement {
  const row = (bit: number, name: string, zero: string, one: string): HTMLElement =>
    h(
      'tr',
      {},
      h('td', {}, name),
      h('td', {}, (code & bit) !== 0 ? '1' : '0'),
      h('td', {}, (code & bit) !== 0 ? one : zero),
    );
  return h(
    'div',
    { class: 'card fault', id: 'walk-fault', 'data-error-code': code },
    h('div', { class: 'card-title' }, `page fault: error code ${'0x' + code.toString(16).toUpperCase()}`),
    h('div', {}, describeErrorCode(code)),
    h('div', { class: 'why' }, reason),
    h(
      'table',
      { class: 'bits' },
      row(PF_P, 'P (bit 0)', 'the page is not present', 'a protection violation'),
      row(PF_W, 'W/R (bit 1)', 'a read', 'a write'),
      row(PF_U, 'U/S (bit 2)', 'at supervisor level', 'at user level (CPL 3)'),
      row(PF_RSVD, 'RSVD (bit 3)', 'no reserved bit set', 'a reserved bit was set'),
      row(PF_ID, 'I/D (bit 4)', 'not a fetch (no SMEP/NX in 32-bit paging)', 'an instruction fetch'),
    ),
  );
}

/** chainView draws CR3 -> PDE -> PTE -> frame. */
function chainView(t: Target, w: WalkState, addr: number): HTMLElement {
  const cards: HTMLElement[] = [
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'card-title' }, 'CR3'),
      h('code', {}, hex8(t.regs.cr3)),
      h('div', { class: 'points' }, `page directory at ${hex8(t.regs.cr3 & FRAME_MASK)}`),
    ),
  ];
  const pdePoints = w.large ? `4 MiB page at ${hex8(w.pde & 0xffc00000)}` : `page table at ${hex8(w.pde & FRAME_MASK)}`;
  cards.push(entryCard(`PDE ${pdIndex(addr)}`, w.pdeAddr, w.pde, true, pdePoints));
  if (w.pteAddr >= 0)
    cards.push(entryCard(`PTE ${ptIndex(addr)}`, w.pteAddr, w.pte, false, `frame ${hex8(w.pte & FRAME_MASK)}`));
  if (w.phys >= 0) {
    cards.push(
      h(
        'div',
        { class: 'card frame' },
        h('div', { class: 'card-title' }, 'physical'),
        h('code', { id: 'walk-phys' }, hex8(w.phys)),
      ),
    );
  }
  const out = h('div', { class: 'chain' });
  cards.forEach((c, i) => out.append(...(i === 0 ? [c] : [h('span', { class: 'arrow' }, '→'), c])));
  return out;
}

/** adView lists the accessed and dirty bits the access itself would set. */
function adView(t: Target, q: WalkQuery): HTMLElement {
  const writes = walkWrites(t, q.addr, KINDS[q.access], q.user);
  if (writes.length === 0)
    return h('p', { id: 'walk-ad' }, 'The access sets no A/D bit (they are already set, or it faults before any).');
  const what = (w: { old: number; value: number }): string =>
    [(w.value & ~w.old & PTE_A) !== 0 ? 'A' : '', (w.value & ~w.old & PTE_D) !== 0 ? 'D' : '']
      .filter(Boolean)
      .join(' and ');
  return h(
    'div',
    { id: 'walk-ad' },
    h('p', {}, 'The access itself would set (SDM 4.8):'),
    h(
      'ul',
      {},
      ...writes.map((w) =>
        h('li', {}, `${what(w)} in the entry at ${hex8(w.addr)}: ${hex8(w.old)} → ${hex8(w.value)}`),
      ),
    ),
  );
}

/** walkView renders the whole walk view for a query; onQuery is called when the form changes. */
export function walkView(t: Target, q: WalkQuery, onQuery: (q: WalkQuery) => void, header: string | null): HTMLElement {
  const w = t.probe(q.addr, KINDS[q.access], q.user);
  const lines = formatWalk(w, q.addr, { kind: KINDS[q.access], user: q.user, pse: t.mode.pse });
  const json = walkJson(w, q.addr);
  const form = walkForm(q, onQuery);
  const result = h(
    'div',
    {
      id: 'walk-result',
      'data-pde': json.pde.value,
      'data-pte': json.pte === null ? '' : json.pte.value,
      'data-physical': json.physical ?? '',
      'data-fault': json.fault === null ? '' : json.fault.errorCode,
    },
    splitView(q.addr, w.large),
    chainView(t, w, q.addr),
    w.phys < 0
      ? faultView(
          w.errorCode,
          lines[lines.length - 1]
            .trim()
            .replace(/^stops: /, '')
            .split(': page fault')[0],
        )
      : null,
    adView(t, q),
    h('h3', {}, 'as ', h('code', {}, 'pagelab translate'), ' prints it'),
    h('pre', { id: 'walk-text' }, [...(header === null ? [] : [header]), ...lines].join('\n')),
  );
  return h('section', { class: 'view', id: 'view-walk' }, h('h2', {}, 'The walk'), form, result);
}

/** walkForm is the address box and the access toggles. */
function walkForm(q: WalkQuery, onQuery: (q: WalkQuery) => void): HTMLElement {
  const input = h('input', {
    id: 'walk-addr',
    value: hex8(q.addr),
    spellcheck: 'false',
    'aria-label': 'linear address',
  });
  const access = h(
    'select',
    { id: 'walk-access', 'aria-label': 'access' },
    ...(['read', 'write', 'fetch'] as const).map((a) => h('option', { value: a, selected: a === q.access }, a)),
  );
  const user = h('input', { id: 'walk-user', type: 'checkbox', checked: q.user });
  const error = h('span', { class: 'error', id: 'walk-error' });
  const submit = (ev: Event): void => {
    ev.preventDefault();
    const text = input.value.trim().replace(/_/g, '');
    const ok = /^(0x)?[0-9a-f]{1,8}$/i.test(text);
    if (!ok) {
      error.textContent = `'${input.value}' is not a 32-bit linear address (hex, e.g. 0xC0100000)`;
      return;
    }
    onQuery({
      addr: parseInt(text.replace(/^0x/i, ''), 16) >>> 0,
      access: access.value as WalkQuery['access'],
      user: user.checked,
    });
  };
  access.addEventListener('change', submit);
  user.addEventListener('change', submit);
  return h(
    'form',
    { class: 'walk-form', onsubmit: submit },
    h('label', {}, 'linear address ', input),
    ' ',
    h('label', {}, 'access ', access),
    ' ',
    h('label', {}, user, ' user (CPL 3)'),
    ' ',
    h('button', { type: 'submit' }, 'walk'),
    ' ',
    error,
  );
}
