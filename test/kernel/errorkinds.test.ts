// The kernel's errors are data: each class has a `kind` (a string-literal union) and the fields a caller needs,
// so callers match on those, never on the wording of a message. One case per kind added in issue 16.

import { describe, expect, it } from 'vitest';
import { lin, phys, type PhysAddr } from '../../src/hw/addr.js';
import { PTE_RW, PTE_US } from '../../src/hw/paging.js';
import { HeapError, type HeapErrorKind } from '../../src/kernel/heap/errors.js';
import { KrHeap } from '../../src/kernel/heap/kr.js';
import { KERNEL_WINDOW_LIMIT } from '../../src/kernel/vm/layout.js';
import { kernelInit } from '../../src/kernel/main.js';
import { VmError, type VmErrorKind } from '../../src/kernel/vm/error.js';
import { UnflushedError, type UnflushedErrorKind } from '../../src/kernel/vm/flush.js';
import { KernelPanic } from '../../src/kernel/vm/panic.js';
import { fakeBoot } from './fakeboot.js';
import { heapRig, TestFrameSet, TestHeapBackend } from './heap/testbackend.js';

/** thrown runs `f`, which must throw, and returns what it threw. */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** heapKind is [kind, address] of the HeapError `f` throws. */
function heapKind(f: () => unknown): [HeapErrorKind, number | null] {
  const e = thrown(f);
  expect(e).toBeInstanceOf(HeapError);
  return [(e as HeapError).kind, (e as HeapError).address];
}

/** vmKind is [kind, frame] of the VmError `f` throws. */
function vmKind(f: () => unknown): [VmErrorKind, number | null] {
  const e = thrown(f);
  expect(e).toBeInstanceOf(VmError);
  return [(e as VmError).kind, (e as VmError).frame];
}

/** flushKind is [kind, pages] of the UnflushedError `f` throws. */
function flushKind(f: () => unknown): [UnflushedErrorKind, readonly number[]] {
  const e = thrown(f);
  expect(e).toBeInstanceOf(UnflushedError);
  return [(e as UnflushedError).kind, (e as UnflushedError).pages];
}

describe('HeapError kinds', () => {
  it('a bad size, count or alignment is a bad-argument naming no address', () => {
    const heap = KrHeap.create(heapRig().backend);
    expect(heapKind(() => heap.kmalloc(-1))).toEqual(['bad-argument', null]);
    expect(heapKind(() => heap.kmallocAligned(10, 3))).toEqual(['bad-argument', null]);
    expect(heapKind(() => heap.kcalloc(1.5, 2))).toEqual(['bad-argument', null]);
  });

  it('no frame for the control page is no-memory, no control block for attach is no-heap, at the base', () => {
    const rig = heapRig();
    const empty = new TestHeapBackend(rig.core, new TestFrameSet(8 << 20, 8 << 20));
    expect(heapKind(() => KrHeap.create(empty, 0xd0000000))).toEqual(['no-memory', 0xd0000000]);
    expect(rig.backend.mapPage(lin(0xd4000000), rig.frames.alloc()!)).toBe(true); // a mapped page, all zero
    expect(heapKind(() => KrHeap.attach(rig.backend, 0xd4000000))).toEqual(['no-heap', 0xd4000000]);
  });
});

describe('VmError kinds of the slot and the window', () => {
  it('a misaligned frame, too many nested slots, an unbalanced unmap, a frame beyond the window', () => {
    const k = kernelInit(fakeBoot({ ram: 32 << 20 }));
    const slot = k.core.slot;
    expect(vmKind(() => slot.map(0x1234 as PhysAddr))).toEqual(['misaligned', 0x1234]);
    for (let i = 0; i < 4; i++) slot.map(phys(0x100000 + i * 4096));
    expect(vmKind(() => slot.map(phys(0x200000)))).toEqual(['slot-exhausted', 0x200000]);
    for (let i = 0; i < 4; i++) slot.unmap();
    expect(vmKind(() => slot.unmap())).toEqual(['slot-unbalanced', null]);
    expect(vmKind(() => k.core.window.read32(phys(KERNEL_WINDOW_LIMIT)))).toEqual([
      'outside-window',
      KERNEL_WINDOW_LIMIT,
    ]);
  });
});

describe('UnflushedError kinds', () => {
  it('an obligation left unsettled, ignored for kernel pages or the current space, or settled twice', () => {
    const k = kernelInit(fakeBoot({ ram: 32 << 20 }));
    const f = k.vm.kernel.map(lin(0xd8000000), k.frames.alloc()!, PTE_RW);
    expect(flushKind(() => k.vm.kernel.map(lin(0xd8001000), k.frames.alloc()!, PTE_RW))).toEqual([
      'unflushed',
      [0xd8000000],
    ]);
    expect(flushKind(() => f.ignore())).toEqual(['kernel-pages', [0xd8000000]]);
    f.flush();
    expect(flushKind(() => f.flush())).toEqual(['settled-twice', [0xd8000000]]);
    const space = k.vm.createSpace();
    k.vm.switchTo(space);
    const u = space.map(lin(0x08048000), k.frames.alloc()!, PTE_RW | PTE_US);
    expect(flushKind(() => u.ignore())).toEqual(['current-space', [0x08048000]]);
    u.flush();
  });

  it('a kernel panic says what kind it is', () => {
    const k = kernelInit(fakeBoot({ ram: 32 << 20 }));
    const e = thrown(() => k.core.machine.write32(0xdeadb000, 1));
    expect(e).toBeInstanceOf(KernelPanic);
    expect([(e as KernelPanic).kind, (e as KernelPanic).cr2]).toEqual(['unhandled-page-fault', 0xdeadb000]);
  });
});
