// Property: random map/unmap/protect across several address spaces agree with
// a plain JS model of each space's mappings, and what the kernel wrote is what
// the MMU walks: reads and writes go through the machine at CPL 0.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lin, type PhysAddr } from '../../../src/hw/addr.js';
import { PageFault } from '../../../src/hw/fault.js';
import { PTE_RW, PTE_US } from '../../../src/hw/paging.js';
import type { AddressSpace } from '../../../src/kernel/vm/space.js';
import { freeFramesInRam } from '../frames/helpers.js';
import { bringUp } from './bringup.js';

/** Pages: 6 user pages over 3 page tables, and 3 kernel-half pages (shared by all spaces). */
const PAGES = [
  0x00400000, 0x00401000, 0x00800000, 0x00bff000, 0x40000000, 0x40001000, 0xd0000000, 0xd0001000, 0xd0400000,
];
const isKernel = (p: number): boolean => p >= 0xc0000000;

type Op =
  | { op: 'map' | 'protect'; space: number; page: number; writable: boolean }
  | { op: 'unmap'; space: number; page: number }
  | { op: 'write' | 'read'; space: number; page: number; value: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constantFrom('map' as const, 'protect' as const),
    space: fc.nat(2),
    page: fc.nat(PAGES.length - 1),
    writable: fc.boolean(),
  }),
  fc.record({ op: fc.constant('unmap' as const), space: fc.nat(2), page: fc.nat(PAGES.length - 1) }),
  fc.record({
    op: fc.constantFrom('write' as const, 'read' as const),
    space: fc.nat(2),
    page: fc.nat(PAGES.length - 1),
    value: fc.nat(),
  }),
);

interface Mapping {
  frame: PhysAddr;
  writable: boolean;
}

function check(pt: 'slot' | 'recursive', ops: Op[]): void {
  const { vm, m, frames } = bringUp(pt, { ram: 8 << 20 });
  const spaces: AddressSpace[] = [vm.kernel, vm.createSpace(), vm.createSpace()];
  const freeBefore = frames.stats().free;
  const model = spaces.map(() => new Map<number, Mapping>());
  const contents = new Map<number, number>(); // frame -> last dword written at offset 0
  const kernelPdes = new Set<number>(); // kernel page tables made (kept for good)
  const view = (s: number, page: number): Map<number, Mapping> => model[isKernel(page) ? 0 : s];
  const settle = (space: AddressSpace, f: { flush(): void; ignore(): void }, page: number) =>
    space === vm.current || isKernel(page) ? f.flush() : f.ignore();

  for (const o of ops) {
    const space = spaces[o.space];
    const page = PAGES[o.page];
    const mapped = view(o.space, page).get(page);
    const flags = (o.op === 'map' || o.op === 'protect') && o.writable ? PTE_RW : 0;
    const user = isKernel(page) ? 0 : PTE_US;
    if (o.op === 'map') {
      if (mapped) {
        expect(() => space.map(lin(page), mapped.frame, flags | user)).toThrow(/already mapped/);
        continue;
      }
      const frame = frames.alloc()!;
      settle(space, space.map(lin(page), frame, flags | user), page);
      if (isKernel(page)) kernelPdes.add(page >>> 22);
      view(o.space, page).set(page, { frame, writable: o.writable });
      contents.set(frame, 0);
      m.mem.write32(frame, 0);
    } else if (o.op === 'protect') {
      if (!mapped) expect(() => space.protect(lin(page), flags | user)).toThrow(/not mapped/);
      else {
        settle(space, space.protect(lin(page), flags | user), page);
        mapped.writable = o.writable;
      }
    } else if (o.op === 'unmap') {
      if (!mapped) {
        expect(() => space.unmap(lin(page))).toThrow(/not mapped/);
        continue;
      }
      const u = space.unmap(lin(page));
      expect(u.frame).toBe(mapped.frame);
      settle(space, u.flush, page);
      frames.free(u.frame);
      view(o.space, page).delete(page);
    } else {
      vm.switchTo(space);
      expect(space.translate(lin(page + 8))).toBe(mapped ? mapped.frame + 8 : null);
      let fault = false;
      try {
        if (o.op === 'write') m.write32(page, o.value);
        else expect(m.read32(page)).toBe(contents.get(mapped?.frame ?? -1));
      } catch (e) {
        if (!(e instanceof PageFault)) throw e;
        fault = true;
      }
      const allowed = mapped !== undefined && (o.op === 'read' || mapped.writable);
      expect(fault).toBe(!allowed);
      if (allowed && o.op === 'write') contents.set(mapped.frame, o.value >>> 0);
    }
  }
  // unmap everything: every user page table goes back to the frame allocator
  vm.switchTo(vm.kernel);
  for (let s = 0; s < spaces.length; s++) {
    for (const [page] of model[s]) {
      const u = spaces[s].unmap(lin(page));
      settle(spaces[s], u.flush, page);
      frames.free(u.frame);
    }
  }
  for (const s of spaces) expect(s.userTables()).toBe(0);
  const kernelTables = new Set(PAGES.filter(isKernel).map((p) => p >>> 22)).size;
  expect(kernelPdes.size).toBeLessThanOrEqual(kernelTables);
  // exactly the kernel tables made remain: a leaked user table, count frame or data frame fails this
  expect(frames.stats().free).toBe(freeBefore - kernelPdes.size);
  expect(freeFramesInRam(m.mem, frames)).toBe(freeBefore - kernelPdes.size);
  expect(frames.audit()).toEqual([]);
  expect(vm.audit()).toEqual([]);
  for (const s of spaces.slice(1)) vm.destroySpace(s);
  expect(frames.stats().free).toBe(freeBefore - kernelPdes.size + 4); // two directories, two count frames
}

describe('property: kernel VM against a JS model of each address space', () => {
  for (const pt of ['slot', 'recursive'] as const) {
    it(`--pt-access ${pt}`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 10, maxLength: 60 }), (ops) => check(pt, ops)),
        { numRuns: 60 },
      );
    });
  }
});
