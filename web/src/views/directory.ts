// The tables: the page directory as a 1024-cell grid (present, 4 MiB, user,
// writable, global at a glance; the recursive slot and the temporary-mapping
// slot marked), a click opens its page table as a grid of 1024 PTEs with its
// present entries merged into runs as `pagelab inspect` merges them, and the
// whole directory as inspect's tree.

import { FRAME_MASK, PDE_PS, PTE_G, PTE_P, PTE_RW, PTE_US, CR4_PSE, flagNames } from '../../../src/hw/paging.js';
import { pteRuns } from '../../../src/tools/inspect/scan.js';
import { scanDirectory } from '../../../src/tools/inspect/scan.js';
import { formatTree } from '../../../src/tools/inspect/tree.js';
import { TEMP_SLOT, TEMP_SLOT_DEPTH } from '../../../src/kernel/vm/layout.js';
import { h, hex8 } from '../dom.js';
import type { Target } from '../target.js';

/** cellClass gives a directory or table entry's classes for the grid. */
function cellClass(v: number, isPde: boolean, pse: boolean): string {
  if ((v & PTE_P) === 0) return 'cell';
  const c = ['cell', 'p'];
  if (isPde && (v & PDE_PS) !== 0 && pse) c.push('ps');
  if ((v & PTE_US) !== 0) c.push('us');
  if ((v & PTE_RW) !== 0) c.push('rw');
  if ((v & PTE_G) !== 0) c.push('g');
  return c.join(' ');
}

/** tempSlots lists the linear pages of the temporary-mapping slots (the booted kernel only). */
function tempSlots(t: Target): number[] {
  if (t.kind !== 'boot') return [];
  return Array.from({ length: TEMP_SLOT_DEPTH }, (_, i) => TEMP_SLOT - i * 4096);
}

/** entryTitle is a cell's tooltip: index, linear range, value and flags. */
function entryTitle(kind: string, i: number, linear: number, size: number, v: number, isPde: boolean): string {
  const flags = (v & PTE_P) === 0 ? 'not present' : flagNames(v, isPde).join(' ');
  return `${kind} ${i}: ${hex8(linear)}–${hex8(linear + size - 1)} = ${hex8(v)} [${flags}]`;
}

/** directoryGrid draws the 1024 PDEs; a click (or Enter) opens one. */
function directoryGrid(t: Target, open: (i: number) => void, selected: number | null): HTMLElement {
  const dir = (t.regs.cr3 & FRAME_MASK) >>> 0;
  const pse = (t.regs.cr4 & CR4_PSE) !== 0;
  const slotPdes = new Set(tempSlots(t).map((a) => a >>> 22));
  const grid = h('div', { class: 'grid dir', id: 'dir-grid', role: 'grid', 'aria-label': 'page directory' });
  for (let i = 0; i < 1024; i++) {
    const v = t.reader.read32(dir + i * 4) >>> 0;
    let cls = cellClass(v, true, pse);
    if ((v & PTE_P) !== 0 && (v & FRAME_MASK) >>> 0 === dir && !((v & PDE_PS) !== 0 && pse)) cls += ' recursive';
    if (slotPdes.has(i)) cls += ' slot';
    if (i === selected) cls += ' selected';
    const title = entryTitle('PDE', i, i * 0x400000, 0x400000, v, true);
    grid.append(
      h('button', { class: cls, 'data-index': i, 'data-value': v, title, 'aria-label': title, onclick: () => open(i) }),
    );
  }
  return grid;
}

/** tableView shows one PDE's page table: its grid and its runs. */
function tableView(t: Target, i: number): HTMLElement {
  const dir = (t.regs.cr3 & FRAME_MASK) >>> 0;
  const pde = t.reader.read32(dir + i * 4) >>> 0;
  const pse = (t.regs.cr4 & CR4_PSE) !== 0;
  const head = h(
    'h3',
    { id: 'table-title' },
    `PDE ${i} (${hex8(i * 0x400000)}–${hex8(i * 0x400000 + 0x3fffff)}) = ${hex8(pde)}`,
  );
  if ((pde & PTE_P) === 0)
    return h(
      'div',
      { class: 'table-view', id: 'table-view' },
      head,
      h('p', {}, 'Not present: every access here faults with P=0.'),
    );
  if ((pde & PDE_PS) !== 0 && pse)
    return h(
      'div',
      { class: 'table-view', id: 'table-view' },
      head,
      h('p', {}, `A 4 MiB page at ${hex8(pde & 0xffc00000)} [${flagNames(pde, true).join(' ')}].`),
    );
  const table = (pde & FRAME_MASK) >>> 0;
  const ptes = new Uint32Array(1024);
  for (let j = 0; j < 1024; j++) ptes[j] = t.reader.read32(table + j * 4) >>> 0;
  const slots = new Set(
    tempSlots(t)
      .filter((a) => a >>> 22 === i)
      .map((a) => (a >>> 12) & 1023),
  );
  const grid = h('div', { class: 'grid table', id: 'pt-grid' });
  for (let j = 0; j < 1024; j++) {
    const cls = cellClass(ptes[j], false, pse) + (slots.has(j) ? ' slot' : '');
    grid.append(
      h('span', {
        class: cls,
        'data-index': j,
        title: entryTitle('PTE', j, i * 0x400000 + j * 4096, 4096, ptes[j], false),
      }),
    );
  }
  const runs = pteRuns(ptes).map((r) => {
    const lin = i * 0x400000 + r.first * 4096;
    const frame = (r.value & FRAME_MASK) >>> 0;
    return h(
      'tr',
      {},
      h('td', {}, `${r.first}–${r.first + r.count - 1}`),
      h('td', {}, h('code', {}, `${hex8(lin)}–${hex8(lin + r.count * 4096 - 1)}`)),
      h('td', {}, h('code', {}, `${hex8(frame)}–${hex8(frame + r.count * 4096 - 1)}`)),
      h('td', {}, flagNames(r.value, false).join(' ')),
    );
  });
  return h(
    'div',
    { class: 'table-view', id: 'table-view' },
    head,
    h('p', {}, `page table at ${hex8(table)}; ${slots.size > 0 ? 'the temporary-mapping slots are outlined' : ''}`),
    grid,
    h(
      'table',
      { class: 'runs', id: 'pt-runs' },
      h('tr', {}, h('th', {}, 'PTEs'), h('th', {}, 'linear'), h('th', {}, 'physical'), h('th', {}, 'flags')),
      ...runs,
    ),
  );
}

/** legend explains the cell colours. */
function legend(): HTMLElement {
  const item = (cls: string, text: string): HTMLElement =>
    h('span', { class: 'legend-item' }, h('span', { class: cls }), text);
  return h(
    'div',
    { class: 'legend' },
    item('cell', 'not present'),
    item('cell p', 'present, supervisor, read-only'),
    item('cell p rw', 'writable'),
    item('cell p us', 'user'),
    item('cell p us rw', 'user, writable'),
    item('cell p ps', '4 MiB page'),
    item('cell p g', 'global'),
    item('cell p recursive', 'recursive slot'),
    item('cell p slot', 'temporary slot'),
  );
}

/** directoryView renders the grid, the open table and inspect's tree. */
export function directoryView(t: Target, selected: number | null, open: (i: number) => void): HTMLElement {
  const tree = formatTree(scanDirectory(t.reader, t.regs));
  return h(
    'section',
    { class: 'view', id: 'view-dir' },
    h('h2', {}, `The tables: page directory at ${hex8(t.regs.cr3 & FRAME_MASK)}`),
    legend(),
    h(
      'div',
      { class: 'dir-grid-wrap' },
      directoryGrid(t, open, selected),
      selected === null
        ? h('p', {}, 'Click a cell (or Tab to it and press Enter) to open its page table.')
        : tableView(t, selected),
    ),
    h('h3', {}, 'merged as ', h('code', {}, 'pagelab inspect'), ' prints them'),
    h('pre', { id: 'dir-tree' }, tree.join('\n')),
  );
}
