// Before/after comparisons of everything the kernel owns: every written byte
// of physical memory (heap pages, page tables, the control blocks) and the
// frame allocator's state. The heap region's mapped pages are read once first
// so that a call's own reads set no new accessed bits in the page tables.

import { hex } from '../../../src/hw/addr.js';
import { ACCESS_READ } from '../../../src/hw/fault.js';
import { KR_BASE, PAGE, SLAB_BASE } from '../../../src/kernel/heap/layout.js';
import type { HeapRig } from './testbackend.js';

/** heapPages lists the mapped pages of the K&R heap's first 16 MiB and of the slab area's first 1 MiB. */
export function heapPages(rig: HeapRig): number[] {
  const out: number[] = [];
  for (const [lo, hi] of [
    [KR_BASE, KR_BASE + 4096 * PAGE],
    [SLAB_BASE, SLAB_BASE + 256 * PAGE],
  ] as const) {
    for (let page = lo; page < hi; page += PAGE)
      if (rig.machine.mmu.probe(page, ACCESS_READ, false).phys >= 0) out.push(page);
  }
  return out;
}

/**
 * machineState touches the heap's pages and clears the temporary-mapping slots (a scratch mapping the heap's
 * page-table lookups retarget), then copies every written chunk of physical memory and the frame allocator's state.
 */
export function machineState(rig: HeapRig): string[] {
  for (const page of heapPages(rig)) rig.machine.read32(page);
  rig.core.slot.quiesce();
  const out: string[] = [rig.frames.state()];
  rig.machine.mem.forEachWrittenChunk((base, bytes) =>
    out.push(`${hex(base)}:${Buffer.from(bytes).toString('base64')}`),
  );
  return out;
}

/** changedChunk names the first chunk that differs between two states (null: identical). */
export function changedChunk(before: string[], after: string[]): string | null {
  if (before.length !== after.length) return `${before.length} chunks before, ${after.length} after`;
  for (let i = 0; i < after.length; i++)
    if (after[i] !== before[i]) return i === 0 ? 'the frame allocator' : after[i].slice(0, 10);
  return null;
}
