// Property tests: random allocate/free sequences against a plain JS model of
// the allocated frames (the free set is the usable frames minus those), for
// the three strategies, on machines from 1 MiB to 4 GiB with holes.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { PhysAddr } from '../../../src/hw/addr.js';
import { FRAME_STRATEGIES, type FrameAllocator, type FrameStrategy } from '../../../src/kernel/frames/api.js';
import { FrameError } from '../../../src/kernel/frames/error.js';
import { findRange } from '../../../src/kernel/frames/regions.js';
import type { RamRange } from '../../../src/hw/memory.js';
import { MACHINES, bootWith } from './helpers.js';

type Op =
  | { kind: 'alloc'; order: number; zero: boolean }
  | { kind: 'free'; pick: number }
  | { kind: 'bad'; pick: number; how: 'double' | 'misaligned' | 'reserved' };

/** ops generates a command sequence; the list strategy gets order-0 allocations only. */
function ops(strategy: FrameStrategy, max: number): fc.Arbitrary<Op[]> {
  const order =
    strategy === 'list'
      ? fc.constant(0)
      : fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }) });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), order, zero: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('bad' as const),
        pick: fc.nat(),
        how: fc.constantFrom('double' as const, 'misaligned' as const, 'reserved' as const),
      }),
    },
  );
  return fc.array(op, { maxLength: max, size: 'max' });
}

class Model {
  /** frame -> order of the block that starts there. */
  readonly blocks = new Map<number, number>();
  readonly frames = new Set<number>();
  readonly freed: number[] = [];
  constructor(readonly alloc: FrameAllocator) {}

  get used(): number {
    return this.frames.size;
  }

  /** take checks a fresh block against the model and records it. */
  take(block: number, order: number): void {
    expect(block % (4096 * 2 ** order)).toBe(0);
    for (let i = 0; i < 2 ** order; i++) {
      const f = block + i * 4096;
      expect(this.frames.has(f)).toBe(false);
      expect(findRange(this.alloc.regions.usable, f / 4096)).toBeGreaterThanOrEqual(0);
      this.frames.add(f);
    }
    this.blocks.set(block, order);
  }

  /** freeRun finds the first aligned run of 2^order frames inside one usable range that the model holds free. */
  freeRun(order: number): number | null {
    const n = 2 ** order;
    for (const r of this.alloc.regions.usable) {
      for (let p = Math.ceil(r.start / n) * n; p + n <= r.end; p += n) {
        let i = 0;
        while (i < n && !this.frames.has((p + i) * 4096)) i++;
        if (i === n) return p * 4096;
      }
    }
    return null;
  }

  /** give frees a block in both the allocator and the model. */
  give(block: number): void {
    const order = this.blocks.get(block)!;
    if (order === 0) this.alloc.free(block as PhysAddr);
    else this.alloc.freeContiguous(block as PhysAddr, order);
    this.blocks.delete(block);
    for (let i = 0; i < 2 ** order; i++) this.frames.delete(block + i * 4096);
    this.freed.push(block);
  }
}

/** step applies one command to the allocator and the model and checks they agree. */
function step(a: FrameAllocator, model: Model, op: Op): void {
  const usable = a.stats().usable;
  if (op.kind === 'alloc') {
    const got = a.allocContiguous(op.order, { zero: op.zero });
    if (got === null) expect(op.order > 0 || model.used === usable).toBe(true);
    else model.take(got, op.order);
    // null only when the model holds no free block of that size: an aligned run of 2^order free frames in one range
    if (got === null) expect(model.freeRun(op.order)).toBeNull();
  } else if (op.kind === 'free') {
    const blocks = [...model.blocks.keys()];
    if (blocks.length > 0) model.give(blocks[op.pick % blocks.length]);
  } else {
    const before = a.stats();
    const target = badTarget(a, model, op);
    if (target === null) return;
    expect(() => a.free(target as PhysAddr)).toThrow(FrameError);
    expect(a.stats()).toEqual(before);
  }
  expect(a.stats().free).toBe(usable - model.used);
}

/** badTarget picks an address free() must reject: a free frame, a misaligned one, a reserved one. */
function badTarget(a: FrameAllocator, model: Model, op: { pick: number; how: string }): number | null {
  if (op.how === 'reserved') {
    const r = a.regions.reserved;
    return r.length === 0 ? null : r[op.pick % r.length].start * 4096;
  }
  if (op.how === 'misaligned') {
    const blocks = [...model.blocks.keys()];
    return blocks.length === 0 ? 0x1234 : blocks[op.pick % blocks.length] + 4 + (op.pick % 1000) * 4;
  }
  const free = model.freed.filter((f) => !model.frames.has(f));
  return free.length === 0 ? null : free[op.pick % free.length];
}

/** finish checks the whole free set (small machines) or the model's frames (large ones), and the audit. */
function finish(a: FrameAllocator, model: Model, whole: boolean): void {
  expect(a.audit()).toEqual([]);
  for (const f of model.frames) expect(a.isFree(f as PhysAddr)).toBe(false);
  for (const f of model.freed) expect(a.isFree(f as PhysAddr)).toBe(!model.frames.has(f));
  if (!whole) return;
  const stride = a.stats().usable > 4096 ? 61 : 1; // large machines: a sample of frames across every range
  const wrong: number[] = [];
  for (const r of a.regions.usable) {
    for (let p = r.start; p < r.end; p += stride)
      if (a.isFree((p * 4096) as PhysAddr) === model.frames.has(p * 4096)) wrong.push(p * 4096);
  }
  expect(wrong).toEqual([]);
}

const SMALL: { name: string; ram: number | RamRange[]; low: 'use' | 'reserve' }[] = [
  { name: 'tiny (1 MiB, low 1 MiB reserved: ~70 frames)', ram: MACHINES['1 MiB (640 KiB + 384 KiB)'], low: 'reserve' },
  { name: '1 MiB', ram: MACHINES['1 MiB (640 KiB + 384 KiB)'], low: 'use' },
  { name: 'holes', ram: MACHINES['holes (0-640K, 1-20M, 24-25M, 64-96M)'], low: 'use' },
];

describe('frame allocators: random sequences against a model', () => {
  for (const strategy of FRAME_STRATEGIES) {
    for (const m of SMALL) {
      it(`${strategy} on ${m.name}`, () => {
        fc.assert(
          fc.property(ops(strategy, 200), (seq) => {
            const b = bootWith(m.ram, strategy, { lowMemory: m.low, poison: true });
            const model = new Model(b.alloc);
            for (const op of seq) step(b.alloc, model, op);
            finish(b.alloc, model, true);
          }),
          { numRuns: 30 },
        );
      });
    }

    it(`${strategy} on 4 GiB with a hole (one machine, each run frees what it took)`, () => {
      const b = bootWith(MACHINES['4 GiB with a 3-3.25 GiB hole'], strategy);
      fc.assert(
        fc.property(ops(strategy, 60), (seq) => {
          const model = new Model(b.alloc);
          try {
            for (const op of seq) step(b.alloc, model, op);
            finish(b.alloc, model, false);
          } finally {
            for (const f of [...model.blocks.keys()]) model.give(f);
          }
          expect(b.alloc.stats().used).toBe(0);
        }),
        { numRuns: 8 },
      );
    }, 30_000);
  }
});
