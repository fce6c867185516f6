// The heap on the real kernel: kernelInit's frame allocator, kernel VM and
// KernelHeapBackend, as kernelInit sets them up (kernel-half page tables on demand, global kernel pages,
// both page-table access strategies). Random sequences keep every block's
// contents and the heap consistent, and the frame allocator gets its frames back.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PAGE_SIZE, lin } from '../../../src/hw/addr.js';
import { retainedFrames } from '../../../src/kernel/heap/heap.js';
import { kernelInit } from '../../../src/kernel/main.js';
import { GDT_BYTES } from '../../../src/kernel/gdt.js';
import { findDamage, fillPattern } from './pattern.js';
import { fakeBoot } from '../fakeboot.js';

const op = fc.record({
  free: fc.boolean(),
  pick: fc.nat(),
  size: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 65536 })),
});

describe.each([
  ['kr', 'bitmap', 'slot'],
  ['slab', 'buddy', 'recursive'],
  ['kr', 'list', 'recursive'],
] as const)('heap on the kernel (%s heap, %s frames, %s page-table access)', (heap, frames, ptAccess) => {
  it('random kmalloc/kfree keep contents; frames return to the frame allocator', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40, size: 'max' }), (ops) => {
        const k = kernelInit(fakeBoot({ ram: 32 << 20 }), { frames, ptAccess, heap });
        const h = k.heap;
        const free0 = k.frames.stats().free;
        const tables0 = k.vm.tablesAllocated;
        const held0 = h.stats().framesHeld;
        const live: { ptr: number; size: number; seed: number }[] = [];
        ops.forEach((o, i) => {
          if (o.free && live.length > 0) {
            h.kfree(lin(live.splice(o.pick % live.length, 1)[0].ptr));
          } else {
            const ptr = h.kmalloc(o.size)!;
            fillPattern(k.core.machine, ptr, o.size, i);
            live.push({ ptr, size: o.size, seed: i });
          }
          for (const b of live) expect(findDamage(k.core.machine, b.ptr, b.size, b.seed)).toBe(-1);
        });
        expect(h.check()).toEqual([]);
        for (const b of live) h.kfree(lin(b.ptr));
        const s = h.stats();
        expect(h.check()).toEqual([]);
        // the kernel's GDT (src/kernel/gdt.ts) is a live 40-byte heap block from bring-up: its page stays held
        const pinned = Math.ceil(GDT_BYTES / PAGE_SIZE);
        expect(s.framesHeld).toBeLessThanOrEqual(retainedFrames(heap) + pinned);
        expect(free0 - k.frames.stats().free).toBe(s.framesHeld - held0 + k.vm.tablesAllocated - tables0);
        expect(k.frames.audit()).toEqual([]);
        k.vm.tracker.check();
      }),
      { numRuns: 12 },
    );
  });
});
