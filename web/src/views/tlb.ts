// The TLB: its entries by set and way (page, frame, rights, global/large/dirty),
// the MMU's counters, accesses made from the page to watch hits and misses,
// and the seeds' warning made visible: a PTE edited without INVLPG leaves a
// stale entry the CPU keeps using, marked here by comparing each entry with a
// fresh walk of the tables.

import { lin, phys } from '../../../src/hw/addr.js';
import { ACCESS_READ } from '../../../src/hw/fault.js';
import { FRAME_MASK, PTE_RW } from '../../../src/hw/paging.js';
import {
  RIGHT_SUP_WRITE,
  RIGHT_USER_READ,
  RIGHT_USER_WRITE,
  TLBF_DIRTY,
  TLBF_GLOBAL,
  TLBF_LARGE,
} from '../../../src/hw/tlb.js';
import { h, hex8 } from '../dom.js';
import type { Session } from '../session.js';

/** The demo's page: a kernel address nothing else maps. */
export const DEMO_PAGE = 0xc8000000;

interface Demo {
  frameA: number;
  frameB: number;
  pteAddr: number;
}

let demo: Demo | null = null;
const log: string[] = [];

/** isStale tells whether slot i's translation differs from what the tables say now. */
function isStale(s: Session, i: number): boolean {
  const tlb = s.machine.mmu.tlb;
  const w = s.machine.mmu.probe(tlb.vpn[i] * 4096, ACCESS_READ, false);
  return w.phys < 0 || Math.floor(w.phys / 4096) !== tlb.pfn[i] >>> 0;
}

/** rightsText names the rights an entry allows (R always; W, U). */
function rightsText(allowed: number): string {
  return ['R', allowed & (RIGHT_SUP_WRITE | RIGHT_USER_WRITE) ? 'W' : '', allowed & RIGHT_USER_READ ? 'U' : ''].join(
    '',
  );
}

/** entryCell shows one way of one set. */
function entryCell(s: Session, i: number): HTMLElement {
  const tlb = s.machine.mmu.tlb;
  const vpn = tlb.vpn[i];
  if (vpn === -1) return h('td', { class: 'tlb-entry empty', 'data-slot': i }, '—');
  const stale = isStale(s, i);
  const f = tlb.flags[i];
  const tags = [f & TLBF_GLOBAL ? 'G' : '', f & TLBF_LARGE ? '4M' : '', f & TLBF_DIRTY ? 'D' : '']
    .filter(Boolean)
    .join(' ');
  return h(
    'td',
    {
      class: stale ? 'tlb-entry stale' : 'tlb-entry',
      'data-slot': i,
      'data-vpn': vpn,
      title: stale ? 'stale: the page tables now say otherwise' : '',
    },
    h('code', {}, hex8(vpn * 4096).slice(0, 7)),
    ' → ',
    h('code', {}, hex8((tlb.pfn[i] >>> 0) * 4096).slice(0, 7)),
    h(
      'div',
      { class: 'tags' },
      `${rightsText(tlb.allowed[i])} ${tags}`,
      stale ? h('b', { class: 'stale-tag' }, ' STALE') : null,
    ),
  );
}

/** grid draws sets as rows and ways as columns. */
function grid(s: Session): HTMLElement {
  const tlb = s.machine.mmu.tlb;
  const head = h('tr', {}, h('th', {}, 'set'), ...Array.from({ length: tlb.ways }, (_, w) => h('th', {}, `way ${w}`)));
  const rows = Array.from({ length: tlb.sets }, (_, set) =>
    h(
      'tr',
      {},
      h('th', {}, String(set)),
      ...Array.from({ length: tlb.ways }, (_, w) => entryCell(s, set * tlb.ways + w)),
    ),
  );
  return h('table', { class: 'tlb', id: 'tlb-grid' }, head, ...rows);
}

/** counters shows the MMU's counters. */
function counters(s: Session): HTMLElement {
  const c = s.machine.mmu.counters();
  const cells = Object.entries(c).map(([k, v]) => h('td', { 'data-counter': k }, `${k} ${v}`));
  return h('table', { class: 'counters', id: 'tlb-counters' }, h('tr', {}, ...cells));
}

/** access reads one dword through the MMU as the kernel would, logging hit or miss. */
function access(s: Session, addr: number): void {
  const mmu = s.machine.mmu;
  const before = mmu.counters();
  try {
    const v = s.machine.read32(addr);
    const hit = mmu.counters().hits > before.hits;
    log.push(`read32 ${hex8(addr)} = ${hex8(v)}: TLB ${hit ? 'hit' : 'miss, walked and filled'}`);
  } catch (e) {
    log.push(`read32 ${hex8(addr)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** setupDemo maps the demo page to a fresh frame A and keeps a frame B, each marked. */
function setupDemo(s: Session): Demo {
  const k = s.report.kernel;
  const a = k.frames.alloc({ zero: true });
  const b = k.frames.alloc({ zero: true });
  if (a === null || b === null) throw new Error('no free frame for the demo');
  s.machine.mem.write32(a, 0xaaaaaaaa);
  s.machine.mem.write32(b, 0xbbbbbbbb);
  k.vm.kernel.map(lin(DEMO_PAGE), phys(a), PTE_RW).flush();
  const w = s.machine.mmu.probe(DEMO_PAGE, ACCESS_READ, false);
  log.push(`mapped ${hex8(DEMO_PAGE)} to frame A ${hex8(a)} (holding 0xAAAAAAAA); frame B ${hex8(b)} holds 0xBBBBBBBB`);
  return { frameA: a, frameB: b, pteAddr: w.pteAddr };
}

/** editWithoutInvlpg caches the page, then points its PTE at frame B without INVLPG. */
export function editWithoutInvlpg(s: Session): void {
  demo ??= setupDemo(s);
  access(s, DEMO_PAGE);
  const mem = s.machine.mem;
  const pte = mem.read32(demo.pteAddr);
  const target = (pte & FRAME_MASK) >>> 0 === demo.frameA ? demo.frameB : demo.frameA;
  mem.write32(demo.pteAddr, ((pte & ~FRAME_MASK) | target) >>> 0);
  log.push(`PTE at ${hex8(demo.pteAddr)} now names frame ${hex8(target)} — written without INVLPG`);
  access(s, DEMO_PAGE);
  log.push('the read above used the cached translation: the old frame (the entry is marked STALE)');
}

/** invlpgDemo invalidates the demo page and reads it again through the new PTE. */
function invlpgDemo(s: Session): void {
  s.machine.mmu.invlpg(DEMO_PAGE);
  log.push(`INVLPG ${hex8(DEMO_PAGE)}`);
  access(s, DEMO_PAGE);
}

/** tlbView renders the TLB, its counters, the access form and the demo. */
export function tlbView(s: Session, rerender: () => void): HTMLElement {
  const tlb = s.machine.mmu.tlb;
  const input = h('input', { id: 'tlb-addr', value: '0xC0100000', 'aria-label': 'address to read' });
  const read = (ev: Event): void => {
    ev.preventDefault();
    const v = parseInt(input.value.replace(/^0x/i, ''), 16);
    if (Number.isInteger(v) && v >= 0 && v <= 0xffffffff) access(s, v);
    rerender();
  };
  const act = (fn: () => void) => () => {
    fn();
    rerender();
  };
  return h(
    'section',
    { class: 'view', id: 'view-tlb' },
    h('h2', {}, `The TLB: ${tlb.sets} sets × ${tlb.ways} ways, ${tlb.occupancy()} entries in use`),
    counters(s),
    h(
      'form',
      { onsubmit: read },
      h('label', {}, 'read a dword at ', input),
      ' ',
      h('button', { type: 'submit', id: 'tlb-read' }, 'read'),
    ),
    h(
      'div',
      { class: 'controls' },
      h(
        'button',
        { id: 'tlb-demo', onclick: act(() => editWithoutInvlpg(s)) },
        `edit the PTE of ${hex8(DEMO_PAGE)} without INVLPG`,
      ),
      h(
        'button',
        { id: 'tlb-invlpg', onclick: act(() => invlpgDemo(s)), disabled: demo === null },
        `INVLPG ${hex8(DEMO_PAGE)}`,
      ),
    ),
    h('pre', { id: 'tlb-log' }, log.slice(-12).join('\n')),
    grid(s),
  );
}
