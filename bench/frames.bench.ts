// Frame allocators: allocate+free pairs per second, the cost of the first
// allocation after boot, allocator bring-up time, metadata overhead per frame,
// and for the buddy allocator the largest block left after a random churn,
// on 16 MiB, 512 MiB and 4 GiB machines.
// Run: npm run bench -- frames      (FRAMES_PAIRS=N to change the pair count)
import type { PhysAddr } from '../src/hw/addr.js';
import { setupKernelCore } from '../src/kernel/vm/core.js';
import { createFrameAllocator } from '../src/kernel/frames/allocator.js';
import { FRAME_STRATEGIES, type FrameAllocator, type FrameStrategy } from '../src/kernel/frames/api.js';
import { BuddyAllocator } from '../src/kernel/frames/buddy.js';
import type { Machine } from '../src/hw/machine.js';
import { fakeBoot } from '../test/kernel/fakeboot.js';
import { BenchTable } from './table.js';

const MiB = 1 << 20;
const SIZES: [string, number][] = [
  ['16 MiB', 16 * MiB],
  ['512 MiB', 512 * MiB],
  ['4 GiB', 4096 * MiB],
];
const PAIRS = Number(process.env.FRAMES_PAIRS ?? 2_000_000);
const BATCH = 1024;

interface Booted {
  machine: Machine;
  alloc: FrameAllocator;
  initMs: number;
}

/** bootAllocator boots a fake machine and times the allocator's bring-up alone. */
function bootAllocator(ram: number, strategy: FrameStrategy): Booted {
  const info = fakeBoot({ ram });
  const core = setupKernelCore(info);
  const t0 = process.hrtime.bigint();
  const alloc = createFrameAllocator(core, strategy);
  return { machine: info.machine, alloc, initMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** accesses counts the machine's translated memory accesses (TLB hits + misses) during fn. */
function accesses(m: Machine, fn: () => void): { n: number; us: number } {
  const c0 = m.mmu.counters();
  const t0 = process.hrtime.bigint();
  fn();
  const us = Number(process.hrtime.bigint() - t0) / 1e3;
  const c1 = m.mmu.counters();
  return { n: c1.hits + c1.misses - c0.hits - c0.misses, us };
}

/**
 * cpuSeconds is this process's user+system CPU time: on a shared machine it
 * leaves out the time the process waited for a core, which wall clock does not.
 */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** pairsPerSecond: alloc() then free() of the same frame, PAIRS times; per second of wall clock and of CPU time. */
function pairsPerSecond(a: FrameAllocator): { wall: number; cpu: number } {
  const t0 = process.hrtime.bigint();
  const c0 = cpuSeconds();
  for (let i = 0; i < PAIRS; i++) a.free(a.alloc()!);
  return { wall: PAIRS / (Number(process.hrtime.bigint() - t0) / 1e9), cpu: PAIRS / (cpuSeconds() - c0) };
}

/** batchPairsPerSecond: allocate BATCH frames, free them in a shuffled order, repeated (per CPU second). */
function batchPairsPerSecond(a: FrameAllocator, rounds: number): number {
  const frames: PhysAddr[] = new Array<PhysAddr>(BATCH);
  let x = 0x2545f491;
  const c0 = cpuSeconds();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < BATCH; i++) frames[i] = a.alloc()!;
    for (let i = BATCH - 1; i > 0; i--) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const j = (x >>> 0) % (i + 1);
      const t = frames[i];
      frames[i] = frames[j]!;
      frames[j] = t;
    }
    for (let i = 0; i < BATCH; i++) a.free(frames[i]);
  }
  return (rounds * BATCH) / (cpuSeconds() - c0);
}

/**
 * churn fills about 3/4 of memory with blocks of order 0..3, frees a random half of them, and reports the largest
 * free order.
 */
function churn(a: BuddyAllocator): { order: number; freePct: number } {
  const live: [PhysAddr, number][] = [];
  let x = 0x1234567;
  const rand = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const target = a.stats().usable * 0.75;
  for (let used = 0; used < target;) {
    const order = [0, 0, 0, 0, 1, 1, 2, 3][rand(8)];
    const b = a.allocContiguous(order);
    if (b === null) break;
    live.push([b, order]);
    used += 2 ** order;
  }
  for (let i = live.length - 1; i > 0; i--) {
    const j = rand(i + 1);
    const t = live[i];
    live[i] = live[j]!;
    live[j] = t;
  }
  for (const [b, k] of live.splice(0, live.length >> 1)) a.freeContiguous(b, k);
  const s = a.stats();
  return { order: a.largestFreeOrder(), freePct: (100 * s.free) / s.usable };
}

function warmUp(): void {
  for (const s of FRAME_STRATEGIES) {
    const b = bootAllocator(16 * MiB, s);
    for (let i = 0; i < 200_000; i++) b.alloc.free(b.alloc.alloc()!);
    batchPairsPerSecond(b.alloc, 20);
  }
}

warmUp();
const table = new BenchTable(`Frame allocators: ${PAIRS / 1e6}M alloc+free pairs per case`, [
  { name: 'strategy', width: 8, left: true },
  { name: 'machine', width: 8, left: true },
  { name: 'init ms', width: 7 },
  { name: 'first alloc: accesses', width: 21 },
  { name: 'µs', width: 5 },
  { name: 'pairs M/s wall', width: 14 },
  { name: 'M/s cpu', width: 7 },
  { name: 'accesses/pair', width: 13 },
  { name: 'batch-1024 M/s cpu', width: 18 },
  { name: 'metadata B/frame', width: 16 },
]);
for (const strategy of FRAME_STRATEGIES) {
  for (const [name, ram] of SIZES) {
    const b = bootAllocator(ram, strategy);
    let first: PhysAddr | null = null;
    const f = accesses(b.machine, () => {
      first = b.alloc.alloc();
    });
    b.alloc.free(first!);
    const per =
      accesses(b.machine, () => {
        for (let i = 0; i < 1000; i++) b.alloc.free(b.alloc.alloc()!);
      }).n / 1000;
    const pairs = pairsPerSecond(b.alloc);
    const batch = batchPairsPerSecond(b.alloc, Math.max(1, Math.floor(PAIRS / BATCH / 4)));
    const meta = b.alloc.metadata.bytes / b.alloc.stats().total;
    table.row([
      strategy,
      name,
      b.initMs.toFixed(1),
      String(f.n),
      f.us.toFixed(1),
      (pairs.wall / 1e6).toFixed(2),
      (pairs.cpu / 1e6).toFixed(2),
      per.toFixed(1),
      (batch / 1e6).toFixed(2),
      meta.toFixed(3),
    ]);
  }
}
for (const [name, ram] of SIZES.slice(0, 2)) {
  const b = bootAllocator(ram, 'buddy');
  const r = churn(b.alloc as BuddyAllocator);
  table.note(
    `buddy churn on ${name}: largest free block order ${r.order} (${4 * 2 ** r.order} KiB) with ` +
      `${r.freePct.toFixed(1)}% of frames free`,
  );
}
table.end();
