// Property tests of both heaps: random kmalloc/kfree/krealloc sequences with
// sizes from 1 byte to 64 KiB. At every step each live block's contents read
// back intact, no two live blocks overlap, every live block is mapped
// kernel-only and writable, and the heap's own check finds nothing; after
// everything is freed the frames come back to the frame allocator. The
// size-class layer runs with its red zones on, so check() also reads them.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hex, lin, type LinAddr } from '../../../src/hw/addr.js';
import { ACCESS_WRITE } from '../../../src/hw/fault.js';
import type { HeapKind, KernelHeap } from '../../../src/kernel/heap/api.js';
import { createHeap, retainedFrames } from '../../../src/kernel/heap/heap.js';
import { findDamage, fillPattern } from './pattern.js';
import { heapRig, type HeapRig } from './testbackend.js';

type Cmd =
  | { readonly op: 'malloc'; readonly size: number }
  | { readonly op: 'calloc'; readonly size: number }
  | { readonly op: 'aligned'; readonly size: number; readonly align: number }
  | { readonly op: 'free'; readonly pick: number }
  | { readonly op: 'realloc'; readonly pick: number; readonly size: number };

interface Live {
  ptr: number;
  size: number;
  seed: number;
}

const size = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 256 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 4096 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 65536 }) },
);
const pick = fc.nat();
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: size.map((s) => ({ op: 'malloc' as const, size: s })) },
  { weight: 1, arbitrary: size.map((s) => ({ op: 'calloc' as const, size: s })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ size, align: fc.constantFrom(32, 256, 4096) })
      .map((r) => ({ op: 'aligned' as const, ...r })),
  },
  { weight: 4, arbitrary: pick.map((p) => ({ op: 'free' as const, pick: p })) },
  { weight: 2, arbitrary: fc.record({ pick, size }).map((r) => ({ op: 'realloc' as const, ...r })) },
);

/** apply runs one command against the heap and the model of live blocks. */
function apply(rig: HeapRig, heap: KernelHeap, live: Live[], c: Cmd, seed: number): void {
  const m = rig.machine;
  if (c.op === 'free' || c.op === 'realloc') {
    if (live.length === 0) return;
    const i = c.pick % live.length;
    const b = live[i];
    if (c.op === 'free') {
      heap.kfree(lin(b.ptr));
      live.splice(i, 1);
      return;
    }
    const moved = heap.krealloc(lin(b.ptr), c.size);
    expect(moved).not.toBeNull();
    expect(findDamage(m, moved!, Math.min(b.size, c.size), b.seed)).toBe(-1);
    live[i] = { ptr: moved!, size: c.size, seed };
    fillPattern(m, moved!, c.size, seed);
    return;
  }
  const ptr = allocate(heap, c);
  expect(ptr).not.toBeNull();
  if (c.op === 'calloc') expect(findZero(rig, ptr!, c.size)).toBe(-1);
  if (c.op === 'aligned') expect(ptr! % c.align).toBe(0);
  fillPattern(m, ptr!, c.size, seed);
  live.push({ ptr: ptr!, size: c.size, seed });
}

function allocate(heap: KernelHeap, c: Cmd): LinAddr | null {
  if (c.op === 'calloc') return heap.kcalloc(1, c.size);
  if (c.op === 'aligned') return heap.kmallocAligned(c.size, c.align);
  return heap.kmalloc((c as { size: number }).size);
}

/** findZero returns the first non-zero byte offset below n, or -1. */
function findZero(rig: HeapRig, ptr: number, n: number): number {
  for (let i = 0; i < n; i++) if (rig.machine.read8(ptr + i) !== 0) return i;
  return -1;
}

/** invariants checks every live block's contents, disjointness and mapping, and the heap's own check. */
function invariants(rig: HeapRig, heap: KernelHeap, live: Live[]): void {
  const mmu = rig.machine.mmu;
  for (const b of live) expect(findDamage(rig.machine, b.ptr, b.size, b.seed), `block ${hex(b.ptr)}`).toBe(-1);
  const sorted = [...live].sort((a, b) => a.ptr - b.ptr);
  for (let i = 1; i < sorted.length; i++)
    expect(sorted[i - 1].ptr + sorted[i - 1].size).toBeLessThanOrEqual(sorted[i].ptr);
  for (const b of live) {
    for (let page = (b.ptr & ~0xfff) >>> 0; page < b.ptr + b.size; page += 4096) {
      expect(page).toBeGreaterThanOrEqual(0xc0000000);
      expect(mmu.probe(page, ACCESS_WRITE, false).phys).toBeGreaterThanOrEqual(0);
      expect(mmu.probe(page, ACCESS_WRITE, true).phys).toBe(-1);
    }
  }
  expect(heap.check()).toEqual([]);
}

/** run replays one command sequence on a fresh machine and frees everything at the end. */
function run(kind: HeapKind, cmds: Cmd[]): void {
  const rig = heapRig();
  const before = rig.frames.freeCount;
  const heap = createHeap(rig.backend, kind, { redZone: true });
  const live: Live[] = [];
  cmds.forEach((c, step) => {
    apply(rig, heap, live, c, step * 7 + 1);
    invariants(rig, heap, live);
  });
  for (const b of live.splice(0)) {
    heap.kfree(lin(b.ptr));
    invariants(rig, heap, live);
  }
  const s = heap.stats();
  expect(s.blocksInUse).toBe(0);
  expect(s.framesHeld).toBeLessThanOrEqual(retainedFrames(kind));
  expect(before - rig.frames.freeCount).toBe(s.framesHeld + rig.backend.tablesAllocated);
}

describe.each(['kr', 'slab'] as const)('heap property (%s)', (kind) => {
  it('random kmalloc/kfree/krealloc keep contents, disjointness and mappings; frames come back', () => {
    fc.assert(
      fc.property(
        fc.array(cmd, { minLength: 1, maxLength: Number(process.env.HEAP_PROP_LEN ?? 40), size: 'max' }),
        (cmds) => run(kind, cmds),
      ),
      { numRuns: Number(process.env.HEAP_PROP_RUNS ?? 60) },
    );
  });
});
