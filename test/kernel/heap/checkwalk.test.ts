// The heap checkers see the page tables as the kernel does: through its own walk of its tables (the
// backend's `mapping`), not through the MMU. Each case edits a heap PTE in RAM behind the kernel's back and
// without INVLPG, so the TLB still holds the old translation (the page stays readable through the MMU):
// only a walk of the tables themselves can see the change, and the checker must report it.

import { describe, expect, it } from 'vitest';
import { hex, PAGE_SIZE } from '../../../src/hw/addr.js';
import { ACCESS_READ } from '../../../src/hw/fault.js';
import type { Machine } from '../../../src/hw/machine.js';
import { PTE_P, PTE_RW, PTE_US } from '../../../src/hw/paging.js';
import { kernelInit } from '../../../src/kernel/main.js';
import { fakeBoot } from '../fakeboot.js';

/** pteAddr is the physical address of the PTE that maps `page` (read by the test, as a debugger would). */
function pteAddr(m: Machine, page: number): number {
  const w = m.mmu.probe(page, ACCESS_READ, false);
  expect(w.pteAddr, `${hex(page)} is mapped by a page table`).toBeGreaterThanOrEqual(0);
  return w.pteAddr;
}

/** stalePage clears the PTE of `page` in RAM without INVLPG, after a read has put it in the TLB. */
function stalePage(m: Machine, page: number): void {
  m.write32(page, 0x5a5a5a5a);
  m.mem.write32(pteAddr(m, page), 0);
  expect(m.read32(page), 'the TLB still maps the page').toBe(0x5a5a5a5a);
}

describe.each(['slot', 'recursive'] as const)('heap checkers walk the page tables (%s access)', (ptAccess) => {
  it('K&R: a page of an allocated block unmapped in the tables is found (frames held disagree)', () => {
    const k = kernelInit(fakeBoot({ ram: 32 << 20 }), { ptAccess, heap: 'kr' });
    const p = k.heap.kmalloc(3 * PAGE_SIZE)!;
    expect(k.heap.check()).toEqual([]);
    const held = k.heap.stats().framesHeld;
    stalePage(k.core.machine, p - (p % PAGE_SIZE) + PAGE_SIZE);
    expect(k.heap.check().join('\n')).toContain(`frames held: control block says ${held}, the heap has ${held - 1}`);
  });

  it('K&R: a page above the break mapped in the tables only is reported by address', () => {
    const k = kernelInit(fakeBoot({ ram: 32 << 20 }), { ptAccess, heap: 'kr' });
    const p = k.heap.kmalloc(100)!;
    const m = k.core.machine;
    const page = p - (p % PAGE_SIZE);
    const above = page + PAGE_SIZE; // the break is at the end of the first page; its PTE is in the same table
    const at = pteAddr(m, page) + 4;
    expect(m.mem.read32(at)).toBe(0);
    m.mem.write32(at, 0x00700000 | PTE_P | PTE_RW);
    expect(k.heap.check()).toContain(`page ${hex(above)} above the break is mapped`);
  });

  it('K&R: a heap PTE made user-accessible is reported as not kernel-only', () => {
    const k = kernelInit(fakeBoot({ ram: 32 << 20 }), { ptAccess, heap: 'kr' });
    const p = k.heap.kmalloc(100)!;
    const m = k.core.machine;
    const page = p - (p % PAGE_SIZE);
    m.mem.write32(pteAddr(m, page), m.mem.read32(pteAddr(m, page)) | PTE_US);
    expect(k.heap.check()).toContain(`page ${hex(page)} is not mapped kernel-only read/write`);
  });

  it('slab: a slab page unmapped in the tables (still in the TLB) is reported by address', () => {
    const k = kernelInit(fakeBoot({ ram: 32 << 20 }), { ptAccess, heap: 'slab' });
    const p = k.heap.kmalloc(32)!;
    expect(k.heap.check()).toEqual([]);
    const page = p - (p % PAGE_SIZE);
    stalePage(k.core.machine, page);
    expect(k.heap.check()).toContain(`slab page ${hex(page)} is in use but not mapped`);
  });
});
