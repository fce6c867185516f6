// Misuse of the heap is caught and reported with the address, and a rejected
// call changes nothing: the heap's mapped memory, its statistics and the frame
// allocator are byte-for-byte as they were.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hex, lin, type LinAddr } from '../../../src/hw/addr.js';
import { ACCESS_READ } from '../../../src/hw/fault.js';
import type { KernelHeap } from '../../../src/kernel/heap/api.js';
import { HeapError, type HeapErrorKind } from '../../../src/kernel/heap/errors.js';
import { createHeap } from '../../../src/kernel/heap/heap.js';
import { KR_BASE, PAGE, SLAB_BASE, SLAB_LIMIT } from '../../../src/kernel/heap/layout.js';
import { SLAB_HDR } from '../../../src/kernel/heap/slabclass.js';
import { heapRig, type HeapRig } from './testbackend.js';

/** snapshot captures every mapped page of the heap region, the statistics and the frame count. */
function snapshot(rig: HeapRig, heap: KernelHeap, top: number): string {
  const parts: string[] = [statsOrError(heap), String(rig.frames.usedCount)];
  for (const [lo, hi] of [
    [KR_BASE, top],
    [SLAB_BASE, SLAB_BASE + 64 * PAGE],
  ] as const) {
    for (let page = lo; page < hi; page += PAGE) {
      const w = rig.machine.mmu.probe(page, ACCESS_READ, false);
      if (w.phys >= 0)
        parts.push(`${hex(page)}:${Buffer.from(rig.machine.mem.readBytes(w.phys, PAGE)).toString('base64')}`);
    }
  }
  return parts.join('\n');
}

/** statsOrError gives the statistics, or the error a damaged free list makes stats() throw. */
function statsOrError(heap: KernelHeap): string {
  try {
    return JSON.stringify(heap.stats());
  } catch (e) {
    return String(e);
  }
}

/** rejected runs a call that must throw HeapError of `kind` naming `address`, and checks nothing changed. */
function rejected(
  rig: HeapRig,
  heap: KernelHeap,
  kind: HeapErrorKind,
  address: number,
  call: () => unknown,
  sound = true,
): HeapError {
  const top = KR_BASE + 512 * PAGE;
  const before = snapshot(rig, heap, top);
  let caught: unknown = null;
  try {
    call();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(HeapError);
  const err = caught as HeapError;
  expect(err.kind).toBe(kind);
  expect(err.address).toBe(address);
  expect(err.message).toContain(hex(address));
  expect(snapshot(rig, heap, top)).toBe(before);
  if (sound) expect(heap.check()).toEqual([]);
  return err;
}

function setup(kind: 'kr' | 'slab' = 'kr') {
  const rig = heapRig();
  return { rig, heap: createHeap(rig.backend, kind, { redZone: true }) };
}

describe('heap misuse (K&R blocks)', () => {
  it('double free of a block still on the free list', () => {
    const { rig, heap } = setup();
    const a = heap.kmalloc(100)!;
    heap.kmalloc(100);
    heap.kfree(a);
    rejected(rig, heap, 'double-free', a, () => heap.kfree(a));
  });

  it('double free of a block already merged into its free neighbour', () => {
    const { rig, heap } = setup();
    const a = heap.kmalloc(100)!;
    const b = heap.kmalloc(100)!;
    heap.kmalloc(100);
    heap.kfree(a);
    heap.kfree(b);
    const err = rejected(rig, heap, 'double-free', a, () => heap.kfree(a));
    expect(err.message).toMatch(/merged into the free block/);
  });

  it('double free of a large block whose inside pages went back, and a pointer into that hole: no page fault', () => {
    const { rig, heap } = setup();
    heap.kmalloc(4000);
    const a = heap.kmalloc(100 * 1024)!;
    const b = heap.kmalloc(100 * 1024)!;
    expect(b).toBeGreaterThan(a);
    heap.kfree(a);
    expect(heap.stats().bytesUnmapped).toBeGreaterThan(0);
    rejected(rig, heap, 'double-free', a, () => heap.kfree(a));
    rejected(rig, heap, 'double-free', a, () => heap.krealloc(a, 10));
    const err = rejected(rig, heap, 'not-allocated', a + 8 * PAGE, () => heap.kfree(lin(a + 8 * PAGE)));
    expect(err.message).toMatch(/double free or a stale pointer/);
  });

  it('a pointer inside a block, or misaligned, is not one kmalloc returned', () => {
    const { rig, heap } = setup();
    const a = heap.kmalloc(200)!;
    heap.kmalloc(50);
    const err = rejected(rig, heap, 'not-allocated', a + 64, () => heap.kfree(lin(a + 64)));
    expect(err.message).toContain(`block ${hex(a - 16)}`);
    rejected(rig, heap, 'not-allocated', a + 3, () => heap.kfree(lin(a + 3)));
    rejected(rig, heap, 'not-allocated', a + 64, () => heap.krealloc(lin(a + 64), 10));
  });

  for (const kind of ['kr', 'slab'] as const) {
    it(`${kind}: a pointer that is not a whole number (NaN, 1.5, Infinity) is outside the heap, and the call returns`, () => {
      const { rig, heap } = setup(kind);
      heap.kmalloc(10);
      const before = snapshot(rig, heap, KR_BASE + 512 * PAGE);
      for (const bad of [NaN, KR_BASE + 16.5, Infinity, -16]) {
        for (const call of [() => heap.kfree(bad as LinAddr), () => heap.krealloc(bad as LinAddr, 8)]) {
          let caught: unknown = null;
          try {
            call();
          } catch (e) {
            caught = e;
          }
          expect(caught, String(bad)).toBeInstanceOf(HeapError);
          expect((caught as HeapError).kind).toBe('outside-heap');
          expect((caught as HeapError).message).toContain(
            `at ${bad >= 0 && Number.isInteger(bad) ? hex(bad) : String(bad)}`,
          );
        }
      }
      expect(snapshot(rig, heap, KR_BASE + 512 * PAGE)).toBe(before);
    });
  }

  it('pointers outside the heap, or past its break', () => {
    const { rig, heap } = setup();
    heap.kmalloc(10);
    rejected(rig, heap, 'outside-heap', 0xc0100000, () => heap.kfree(lin(0xc0100000)));
    rejected(rig, heap, 'outside-heap', 0xd8000000, () => heap.kfree(lin(0xd8000000)));
    rejected(rig, heap, 'outside-heap', KR_BASE + 16, () => heap.kfree(lin(KR_BASE + 16)));
    rejected(rig, heap, 'outside-heap', 0x1000, () => heap.kfree(lin(0x1000)));
  });

  it('a header overwritten by a buffer overrun from the block below is reported at the block', () => {
    const { rig, heap } = setup();
    const upper = heap.kmalloc(64)!;
    const lower = heap.kmalloc(64)!;
    expect(lower + 64 + 16).toBe(upper);
    for (let i = 0; i < 24; i++) rig.machine.write8(lower + 64 + i, 0x41);
    const err = rejected(rig, heap, 'corrupt-header', upper, () => heap.kfree(upper), false);
    expect(err.message).toContain(`overrun from the block ${hex(lower - 16)}`);
    heap.kfree(lower);
  });

  it('an overwritten free-block header is found when kmalloc walks the free list', () => {
    const { rig, heap } = setup();
    const a = heap.kmalloc(64)!;
    const b = heap.kmalloc(64)!;
    heap.kmalloc(64);
    heap.kfree(a);
    rig.machine.write32(b + 64 + 4, 0x7fff);
    expect(() => heap.kmalloc(5000)).toThrow(HeapError);
    expect(() => heap.kmalloc(5000)).toThrow(hex(a - 16));
  });

  it('a damaged free block stops kfree and krealloc that would link to it, before they write anything', () => {
    const { rig, heap } = setup();
    const c = heap.kmalloc(64)!;
    const b = heap.kmalloc(64)!;
    const a = heap.kmalloc(64)!;
    heap.kmalloc(64);
    heap.kfree(c);
    rig.machine.write32(c - 16 + 12, 0x5a5a5a5a);
    rejected(rig, heap, 'corrupt-header', c - 16, () => heap.kfree(b), false);
    rejected(rig, heap, 'corrupt-header', c - 16, () => heap.krealloc(b, 16), false);
    rejected(rig, heap, 'corrupt-header', c - 16, () => heap.kfree(a), false);
  });

  it('kfree(null) does nothing', () => {
    const { rig, heap } = setup();
    const before = snapshot(rig, heap, KR_BASE + 16 * PAGE);
    heap.kfree(null);
    expect(snapshot(rig, heap, KR_BASE + 16 * PAGE)).toBe(before);
  });
});

describe('heap misuse (slab objects)', () => {
  it('double free, pointer inside an object, a released page, an overwritten slab header', () => {
    const { rig, heap } = setup('slab');
    const objs: LinAddr[] = Array.from({ length: 10 }, () => heap.kmalloc(64)!);
    const [a, b] = [objs[0], objs[1]];
    expect(a).toBeGreaterThanOrEqual(SLAB_BASE);
    heap.kfree(a);
    rejected(rig, heap, 'double-free', a, () => heap.kfree(a));
    rejected(rig, heap, 'not-allocated', b + 8, () => heap.kfree(lin(b + 8)));
    rejected(rig, heap, 'not-allocated', SLAB_BASE + 16, () => heap.kfree(lin(SLAB_BASE + 16)));
    rejected(rig, heap, 'not-allocated', SLAB_LIMIT - 64, () => heap.kfree(lin(SLAB_LIMIT - 64)));
    const page = (b & ~0xfff) >>> 0;
    rig.machine.write32(page + SLAB_HDR, 0);
    const err = rejected(rig, heap, 'corrupt-header', page + SLAB_HDR, () => heap.kfree(b), false);
    expect(err.message).toContain(`slab ${hex(page)}`);
  });
});

describe('heap misuse (properties)', () => {
  /** live builds a heap with a few live and freed blocks of both kinds; returns it and its live pointers. */
  function populated(kind: 'kr' | 'slab', sizes: number[]) {
    const { rig, heap } = setup(kind);
    const ptrs = sizes.map((s) => heap.kmalloc(s)!);
    const live = ptrs.filter((_, i) => i % 3 !== 1);
    ptrs.filter((_, i) => i % 3 === 1).forEach((p) => heap.kfree(p));
    return { rig, heap, live };
  }

  for (const kind of ['kr', 'slab'] as const) {
    it(`kfree of any address that kmalloc did not return is a HeapError that changes nothing (${kind})`, () => {
      const sizes = fc.array(fc.integer({ min: 1, max: 40000 }), { minLength: 1, maxLength: 12 });
      const addr = fc.oneof(
        fc.integer({ min: KR_BASE - PAGE, max: KR_BASE + 64 * PAGE }),
        fc.integer({ min: SLAB_BASE, max: SLAB_BASE + 16 * PAGE }),
      );
      fc.assert(
        fc.property(sizes, addr, (ss, a) => {
          const { rig, heap, live } = populated(kind, ss);
          fc.pre(!live.includes(lin(a)));
          const before = snapshot(rig, heap, KR_BASE + 512 * PAGE);
          expect(() => heap.kfree(lin(a))).toThrow(HeapError);
          expect(snapshot(rig, heap, KR_BASE + 512 * PAGE)).toBe(before);
          expect(heap.check()).toEqual([]);
        }),
        { numRuns: 40 },
      );
    });
  }

  it('any one dword of a live block header overwritten is caught at kfree, with nothing changed', () => {
    const sizes = fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 2, maxLength: 10 });
    fc.assert(
      fc.property(
        sizes,
        fc.nat(),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 0xffffffff }),
        (ss, pick, word, flip) => {
          const { rig, heap, live } = populated('kr', ss);
          const victim = live[pick % live.length];
          const at = victim - 16 + word * 4;
          rig.machine.write32(at, (rig.machine.read32(at) ^ flip) >>> 0);
          rejected(rig, heap, 'corrupt-header', victim, () => heap.kfree(victim), false);
        },
      ),
      { numRuns: 60 },
    );
  });
});
