// Kernel heap speed and memory overhead: malloc+free pairs per second for the
// K&R heap and the size-class layer, on two replayed allocation patterns
// (small: 16-256 bytes; mixed: up to 64 KiB), and the peak frames held against
// the peak live bytes. Each pattern is generated once from a fixed seed and
// replayed identically on a fresh machine for each allocator, on the real
// kernel (kernelInit: bitmap frame allocator, kernel VM through the slot).
// 'slab+rz' is the size-class layer with its red-zone option (16 bytes after each object).
// Run: npm run bench -- heap   (HEAP_BENCH_SCALE=4 for longer runs)

import { lin, type LinAddr } from '../src/hw/addr.js';
import type { KernelHeap } from '../src/kernel/heap/api.js';
import { KrHeap } from '../src/kernel/heap/kr.js';
import { SlabHeap } from '../src/kernel/heap/slab.js';
import { KernelHeapBackend } from '../src/kernel/heapbackend.js';
import { kernelInit, type Kernel } from '../src/kernel/main.js';
import { fakeBoot } from '../test/kernel/fakeboot.js';
import { BenchTable } from './table.js';

interface Pattern {
  readonly name: string;
  /** Sizes of the warm-up allocations, then of each steady-state pair's allocation. */
  readonly warm: Uint32Array;
  readonly sizes: Uint32Array;
  /** For each pair, which live slot (index into the pool) is freed before the new allocation takes it. */
  readonly victims: Uint32Array;
}

const SCALE = Number(process.env.HEAP_BENCH_SCALE ?? 1);

/** xorshift is a fixed-seed generator, so every run replays the same pattern. */
function xorshift(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** makePattern draws `pool` warm-up sizes and `pairs` steady-state (free, alloc) pairs. */
function makePattern(name: string, pool: number, pairs: number, size: (r: () => number) => number): Pattern {
  const r = xorshift(0x2545f491);
  const warm = Uint32Array.from({ length: pool }, () => size(r));
  const sizes = Uint32Array.from({ length: pairs }, () => size(r));
  const victims = Uint32Array.from({ length: pairs }, () => Math.floor(r() * pool));
  return { name, warm, sizes, victims };
}

const small = (r: () => number): number => 16 + Math.floor(r() * 241);
const mixed = (r: () => number): number => {
  const u = r();
  if (u < 0.6) return small(r);
  if (u < 0.9) return 257 + Math.floor(r() * 3840);
  return 4097 + Math.floor(r() * 61440);
};

const PATTERNS: Pattern[] = [
  makePattern('small 16-256 B', 1000, 20000 * SCALE, small),
  makePattern('mixed 16 B-64 KiB', 200, 4000 * SCALE, mixed),
];

interface Result {
  pairsPerSec: number;
  /** Linear memory accesses (TLB lookups) per pair: a load-independent measure of the work. */
  accessesPerPair: number;
  peakLive: number;
  peakFrames: number;
}

type Allocator = 'kr' | 'slab' | 'slab+rz';

/** heapOf gives the kernel's heap, or for 'slab+rz' a red-zoned size-class layer over the kernel's K&R heap. */
function heapOf(k: Kernel, kind: Allocator): KernelHeap {
  if (kind !== 'slab+rz') return k.heap;
  if (!(k.heap instanceof KrHeap)) throw new Error('slab+rz: the kernel heap should be K&R');
  return SlabHeap.create(new KernelHeapBackend(k.vm, k.frames), k.heap, { redZone: true });
}

/** replay runs a pattern on a fresh machine and heap of `kind`. */
function replay(p: Pattern, kind: Allocator): Result {
  const k = kernelInit(fakeBoot({ ram: 64 << 20 }), { heap: kind === 'slab' ? 'slab' : 'kr' });
  const heap = heapOf(k, kind);
  const machine = k.core.machine;
  const ptrs: LinAddr[] = [];
  const sizes = Array.from(p.warm);
  let live = 0;
  for (const s of p.warm) {
    ptrs.push(heap.kmalloc(s)!);
    live += s;
  }
  let peakLive = live;
  const c0 = machine.mmu.counters();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < p.sizes.length; i++) {
    const v = p.victims[i];
    heap.kfree(ptrs[v]);
    const q = heap.kmalloc(p.sizes[i]);
    if (q === null) throw new Error(`${kind}: out of memory at pair ${i}`);
    ptrs[v] = q;
    live += p.sizes[i] - sizes[v];
    sizes[v] = p.sizes[i]!;
    if (live > peakLive) peakLive = live;
  }
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  const c1 = machine.mmu.counters();
  const accessesPerPair = (c1.hits + c1.misses - c0.hits - c0.misses) / p.sizes.length;
  const peakFrames = heap.stats().peakFrames;
  for (const q of ptrs) heap.kfree(lin(q));
  return { pairsPerSec: p.sizes.length / dt, accessesPerPair, peakLive, peakFrames };
}

// Warm-up: a short replay of each allocator first, so that no row pays for compiling code the next one reuses.
for (const kind of ['kr', 'slab', 'slab+rz'] as const) replay(makePattern('warm-up', 200, 2000, small), kind);

const table = new BenchTable('Kernel heap: kmalloc/kfree pairs replayed per pattern', [
  { name: 'pattern', width: 20, left: true },
  { name: 'allocator', width: 9, left: true },
  { name: 'pairs/s', width: 8 },
  { name: 'accesses/pair', width: 13 },
  { name: 'peak live', width: 9 },
  { name: 'peak frames', width: 11 },
  { name: 'overhead (frames*4K / live)', width: 27 },
]);
for (const p of PATTERNS) {
  for (const kind of ['kr', 'slab', 'slab+rz'] as const) {
    const r = replay(p, kind);
    table.row([
      p.name,
      kind,
      Math.round(r.pairsPerSec).toString(),
      r.accessesPerPair.toFixed(0),
      `${(r.peakLive / 1024).toFixed(0)} KiB`,
      r.peakFrames.toString(),
      ((r.peakFrames * 4096) / r.peakLive).toFixed(2),
    ]);
  }
}
table.end();
