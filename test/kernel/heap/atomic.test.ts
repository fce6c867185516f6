// Atomic rejection under damage: a heap with random live and freed blocks has
// random bytes corrupted (block headers, payloads, the control blocks, slab
// headers and red zones, or a free header forged with a valid check but bogus
// links), then one random entry point runs, possibly needing growth. It either
// succeeds, or throws the heap's own HeapError naming an address, and then
// everything the kernel owns is byte-identical: every written byte of physical
// memory (heap pages, page tables, the control blocks) and the frame allocator.
// No other exception type, no hang.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hex, lin } from '../../../src/hw/addr.js';
import { ACCESS_READ } from '../../../src/hw/fault.js';
import type { HeapKind, KernelHeap } from '../../../src/kernel/heap/api.js';
import { HeapError } from '../../../src/kernel/heap/errors.js';
import { createHeap } from '../../../src/kernel/heap/heap.js';
import { readFree, writeFree } from '../../../src/kernel/heap/header.js';
import { CONTROL_SIZE } from '../../../src/kernel/heap/krcontrol.js';
import { KR_BASE, PAGE, SLAB_BASE } from '../../../src/kernel/heap/layout.js';
import { RED_ZONE, SLAB_CLASSES, SLAB_HDR, bitmapWords, classOf } from '../../../src/kernel/heap/slabclass.js';
import { fillPattern } from './pattern.js';
import { changedChunk, heapPages, machineState } from './snapshot.js';
import { heapRig, type HeapRig } from './testbackend.js';

const RUNS = Number(process.env.HEAP_ATOMIC_RUNS ?? 150);

type Target = 'header' | 'payload' | 'control' | 'slabmeta' | 'redzone' | 'forge';

interface Damage {
  readonly target: Target;
  readonly pick: number;
  readonly offset: number;
  readonly xor: number;
}

type Call =
  | { readonly op: 'kmalloc'; readonly size: number }
  | { readonly op: 'kcalloc'; readonly count: number; readonly size: number }
  | { readonly op: 'aligned'; readonly size: number; readonly align: number }
  | { readonly op: 'kfree'; readonly pick: number; readonly which: 'live' | 'freed' | 'any'; readonly addr: number }
  | { readonly op: 'krealloc'; readonly pick: number; readonly size: number };

const size = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 512 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 8192 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 70000 }) },
);
const damage: fc.Arbitrary<Damage> = fc.record({
  target: fc.constantFrom<Target>('header', 'header', 'payload', 'control', 'slabmeta', 'redzone', 'forge'),
  pick: fc.nat(),
  offset: fc.nat(),
  xor: fc.integer({ min: 1, max: 255 }),
});
const call: fc.Arbitrary<Call> = fc.oneof(
  size.map((s) => ({ op: 'kmalloc' as const, size: s })),
  fc.record({ count: fc.integer({ min: 1, max: 8 }), size }).map((r) => ({ op: 'kcalloc' as const, ...r })),
  fc.record({ size, align: fc.constantFrom(16, 64, 512, 4096, 65536) }).map((r) => ({ op: 'aligned' as const, ...r })),
  fc
    .record({
      pick: fc.nat(),
      which: fc.constantFrom('live' as const, 'freed' as const, 'any' as const),
      addr: fc.integer({ min: KR_BASE, max: SLAB_BASE + 64 * PAGE }),
    })
    .map((r) => ({ op: 'kfree' as const, ...r })),
  fc.record({ pick: fc.nat(), size }).map((r) => ({ op: 'krealloc' as const, ...r })),
);

interface Built {
  readonly rig: HeapRig;
  readonly heap: KernelHeap;
  readonly live: { ptr: number; size: number }[];
  readonly freed: number[];
}

/** build makes a heap of `kind` with the blocks of `sizes`, freeing those whose flag is set. */
function build(kind: HeapKind, sizes: number[], frees: boolean[]): Built {
  const rig = heapRig(4096);
  const heap = createHeap(rig.backend, kind, { redZone: true });
  const all = sizes.map((s, i) => {
    const ptr = heap.kmalloc(s)!;
    fillPattern(rig.machine, ptr, s, i + 1);
    return { ptr, size: s };
  });
  const live = all.filter((_, i) => !frees[i]);
  const freed = all.filter((_, i) => frees[i]).map((b) => b.ptr);
  for (const p of freed) heap.kfree(lin(p));
  return { rig, heap, live, freed };
}

/** metaAddrs lists where block headers and slab metadata lie: K&R headers of live and freed blocks, slab headers. */
function metaAddrs(b: Built, target: Target): number[] {
  const krLive = b.live.filter((x) => x.ptr < SLAB_BASE).map((x) => x.ptr - 16);
  const krFreed = b.freed.filter((p) => p < SLAB_BASE).map((p) => p - 16);
  const pages = heapPages(b.rig);
  if (target === 'header') return [...krLive, ...krFreed, KR_BASE + CONTROL_SIZE];
  if (target === 'control') return [KR_BASE, SLAB_BASE, SLAB_BASE + 0x100, SLAB_BASE + 0x800];
  if (target === 'slabmeta') return pages.filter((p) => p > SLAB_BASE).map((p) => p + SLAB_HDR);
  if (target === 'redzone') return b.live.filter((x) => x.ptr >= SLAB_BASE).map((x) => x.ptr);
  return b.live.map((x) => x.ptr);
}

/** corrupt applies one damage; writes go through the MMU to mapped pages only. */
function corrupt(b: Built, d: Damage): void {
  const m = b.rig.machine;
  if (d.target === 'forge') return forge(b, d);
  const addrs = metaAddrs(b, d.target);
  if (addrs.length === 0) return;
  const base = addrs[d.pick % addrs.length];
  const span = d.target === 'control' ? 0x50 : d.target === 'slabmeta' ? 64 : d.target === 'redzone' ? 640 : 16;
  let at = base + (d.offset % span);
  if (d.target === 'payload') at = base + (d.offset % Math.max(1, b.live[d.pick % b.live.length].size));
  if (m.mmu.probe(at, ACCESS_READ, false).phys < 0) return;
  m.write8(at, m.read8(at) ^ d.xor);
}

/** forge rewrites a free block's header with a valid check word but a bogus next or size (a deliberate forgery). */
function forge(b: Built, d: Damage): void {
  const m = b.rig.machine;
  const frees: number[] = [KR_BASE];
  const mapped = (a: number): boolean => m.mmu.probe(a, ACCESS_READ, false).phys >= 0;
  for (
    let h = readFree(m, KR_BASE);
    h !== null && h.next !== KR_BASE && mapped(h.next) && frees.length < 64;
    h = readFree(m, h.next)
  )
    frees.push(h.next);
  const p = frees[d.pick % frees.length];
  const h = readFree(m, p);
  if (h === null) return;
  const bogus = [
    p,
    KR_BASE + 16,
    p - 16,
    0xc0000000,
    p + 16 * (d.offset % 5000),
    0xdbfff000,
    frees[d.xor % frees.length],
  ][d.offset % 7];
  if (d.xor % 3 === 0) writeFree(m, p, h.next, d.offset % 3 === 0 ? 0 : h.size + d.xor * 1000, d.xor % 2 === 0);
  else writeFree(m, p, bogus, h.size, h.holed);
}

/** invoke runs one entry point. */
function invoke(b: Built, c: Call): unknown {
  const h = b.heap;
  switch (c.op) {
    case 'kmalloc':
      return h.kmalloc(c.size);
    case 'kcalloc':
      return h.kcalloc(c.count, c.size);
    case 'aligned':
      return h.kmallocAligned(c.size, c.align);
    case 'krealloc':
      return b.live.length === 0
        ? h.krealloc(null, c.size)
        : h.krealloc(lin(b.live[c.pick % b.live.length].ptr), c.size);
    case 'kfree': {
      const pool = c.which === 'live' ? b.live.map((x) => x.ptr) : c.which === 'freed' ? b.freed : [c.addr];
      return h.kfree(pool.length === 0 ? null : lin(pool[c.pick % pool.length]));
    }
  }
}

describe.each(['kr', 'slab'] as const)('heap rejections are atomic under damage (%s)', (kind) => {
  it('after random corruption an entry point succeeds, or throws HeapError and changes nothing', () => {
    const sizes = fc.array(size, { minLength: 1, maxLength: 14 });
    fc.assert(
      fc.property(
        sizes,
        fc.array(fc.boolean(), { minLength: 14, maxLength: 14 }),
        fc.array(damage, { minLength: 1, maxLength: 3 }),
        call,
        (ss, fr, ds, c) => {
          const b = build(kind, ss, fr);
          for (const d of ds) corrupt(b, d);
          const before = machineState(b.rig);
          let caught: unknown = null;
          try {
            invoke(b, c);
          } catch (e) {
            caught = e;
          }
          if (caught === null) return;
          expect(caught).toBeInstanceOf(HeapError);
          if (!(caught instanceof HeapError)) return;
          expect(caught.address, 'a rejected call on memory names an address').not.toBeNull();
          expect(caught.message).toContain(hex(caught.address ?? -1));
          const changed = changedChunk(before, machineState(b.rig));
          if (changed !== null) expect.fail(`${caught.message}: changed ${changed}`);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/**
 * steeringBytes lists the bytes that steer the heap: live K&R headers, free-list headers, the sealed
 * control words, slab headers (the words their check covers) and the red zones after slab objects.
 */
function steeringBytes(b: Built, kind: HeapKind): number[] {
  const m = b.rig.machine;
  const heads = b.live.filter((x) => x.ptr < SLAB_BASE).map((x) => x.ptr - 16);
  for (let h = readFree(m, KR_BASE); h !== null && h.next !== KR_BASE; h = readFree(m, h.next)) heads.push(h.next);
  const out = heads.flatMap((a) => Array.from({ length: 16 }, (_, i) => a + i));
  for (const off of [0x10, 0x14, 0x18, 0x4c]) for (let i = 0; i < 4; i++) out.push(KR_BASE + off + i);
  if (kind === 'kr') return out;
  for (const page of heapPages(b.rig).filter((p) => p > SLAB_BASE)) {
    const cls = m.read32(page + SLAB_HDR + 4);
    const words = bitmapWords(cls, true);
    for (let i = 0; i < 20; i++) out.push(page + SLAB_HDR + i);
    for (let i = 0; i < 4 * words; i++) out.push(page + SLAB_HDR + 32 + i);
  }
  for (const x of b.live.filter((y) => y.ptr >= SLAB_BASE)) {
    const end = x.ptr + SLAB_CLASSES[classOf(x.size)];
    for (let i = 0; i < RED_ZONE; i++) out.push(end + i);
  }
  return out;
}

describe.each(['kr', 'slab'] as const)('heap damage is detected (%s)', (kind) => {
  it('one flipped byte in a header, a sealed control word or a red zone makes check() report, and no call faults', () => {
    const sizes = fc.array(size, { minLength: 1, maxLength: 14 });
    fc.assert(
      fc.property(
        sizes,
        fc.array(fc.boolean(), { minLength: 14, maxLength: 14 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        call,
        (ss, fr, pick, xor, c) => {
          const b = build(kind, ss, fr);
          const bytes = steeringBytes(b, kind);
          const at = bytes[pick % bytes.length];
          b.rig.machine.write8(at, b.rig.machine.read8(at) ^ xor);
          expect(b.heap.check().length, `byte ${hex(at)}`).toBeGreaterThan(0);
          try {
            invoke(b, c);
          } catch (e) {
            if (!(e instanceof HeapError)) throw e;
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
