// The K&R heap's behaviour: growth by NALLOC pages, splitting and coalescing
// on an address-ordered free list, frames given back at the top and from holes
// inside large free blocks, the C API (kcalloc, krealloc, aligned), statistics
// kept in memory, and running out of frames.

import { describe, expect, it } from 'vitest';
import { lin, type LinAddr } from '../../../src/hw/addr.js';
import { PageFault } from '../../../src/hw/fault.js';
import { PTE_P, PTE_RW, PTE_US } from '../../../src/hw/paging.js';
import { readFree } from '../../../src/kernel/heap/header.js';
import { KrHeap } from '../../../src/kernel/heap/kr.js';
import { CONTROL_SIZE } from '../../../src/kernel/heap/krcontrol.js';
import { HEAP_RETAIN_FRAMES, KR_BASE, NALLOC_PAGES, PAGE, TRIM_PAGES } from '../../../src/kernel/heap/layout.js';
import { findDamage, fillPattern } from './pattern.js';
import { heapRig } from './testbackend.js';

/** freeList returns the free blocks (address, bytes) in list order from K&R's base block. */
function freeList(heap: KrHeap): [number, number][] {
  const out: [number, number][] = [];
  for (let p = readFree(heap.machine, heap.base)!.next; p !== heap.base;) {
    const h = readFree(heap.machine, p)!;
    out.push([p, h.size * 16]);
    p = h.next;
  }
  return out;
}

function setup(frames?: number) {
  const rig = heapRig(frames);
  const heap = KrHeap.create(rig.backend);
  return { ...rig, heap };
}

describe('K&R heap: growth, split, coalesce', () => {
  it('starts with its control page and grows by NALLOC kernel-only RW pages at the break', () => {
    const { heap, backend, frames } = setup();
    expect(heap.brk).toBe(KR_BASE + PAGE);
    expect(heap.stats().framesHeld).toBe(1);
    const p = heap.kmalloc(5000)!;
    expect(heap.brk).toBe(KR_BASE + PAGE * (1 + NALLOC_PAGES));
    expect(heap.stats().framesHeld).toBe(1 + NALLOC_PAGES);
    expect(frames.usedCount).toBe(1 + NALLOC_PAGES + backend.tablesAllocated);
    for (let page = KR_BASE; page < heap.brk; page += PAGE) {
      const pte = backend.pteOf(page);
      expect(pte & (PTE_P | PTE_RW | PTE_US)).toBe(PTE_P | PTE_RW);
    }
    expect(p % 16).toBe(0);
    expect(heap.check()).toEqual([]);
  });

  it('hands out the tail of a free block and keeps the free list address-ordered', () => {
    const { heap } = setup();
    const a = heap.kmalloc(100)!;
    const b = heap.kmalloc(100)!;
    expect(b).toBeLessThan(a);
    expect(a - b).toBe(7 * 16 + 16);
    const list = freeList(heap);
    expect(list).toEqual([[heap.arena, a - 16 - (a - b) - heap.arena]]);
  });

  it('coalesces a freed block with both neighbours', () => {
    const { heap } = setup();
    const [a, b, c, d] = [heap.kmalloc(64)!, heap.kmalloc(64)!, heap.kmalloc(64)!, heap.kmalloc(64)!];
    heap.kfree(a);
    heap.kfree(c);
    expect(freeList(heap).length).toBe(3);
    expect(freeList(heap).map(([p]) => p)).toEqual([...freeList(heap).map(([p]) => p)].sort((x, y) => x - y));
    heap.kfree(b);
    const list = freeList(heap);
    expect(list.length).toBe(2);
    expect(list[1]).toEqual([c - 16, 3 * 80]);
    heap.kfree(d);
    expect(freeList(heap)).toEqual([[heap.arena, PAGE - CONTROL_SIZE]]);
    expect(heap.check()).toEqual([]);
  });

  it('first fit starts after the roving pointer, as in K&R', () => {
    const { heap } = setup();
    const blocks = Array.from({ length: 6 }, () => heap.kmalloc(32)!);
    heap.kfree(blocks[1]);
    heap.kfree(blocks[3]);
    const again = heap.kmalloc(32)!;
    expect([blocks[1], blocks[3]]).toContain(again);
    expect(heap.check()).toEqual([]);
  });
});

describe('K&R heap: giving frames back', () => {
  it('lowers the break and unmaps the pages (with INVLPG) when the top block is freed', () => {
    const { heap, machine, frames } = setup();
    const used = frames.usedCount;
    const p = heap.kmalloc(100 * 1024)!;
    fillPattern(machine, p, 100 * 1024, 3);
    const top = heap.brk;
    const invlpgs = machine.mmu.counters().invlpgs;
    heap.kfree(p);
    expect(heap.brk).toBe(KR_BASE + PAGE);
    expect(frames.usedCount).toBe(used);
    expect(machine.mmu.counters().invlpgs - invlpgs).toBeGreaterThanOrEqual((top - heap.brk) / PAGE);
    expect(() => machine.read32(top - 4)).toThrow(PageFault);
    expect(heap.check()).toEqual([]);
  });

  it('keeps pages below the threshold: a free leaving fewer than TRIM_PAGES whole pages unmaps nothing', () => {
    const { heap, backend } = setup();
    const p = heap.kmalloc((TRIM_PAGES - 2) * PAGE)!;
    const unmaps = backend.unmaps;
    heap.kfree(p);
    expect(backend.unmaps).toBe(unmaps);
    expect(heap.stats().framesHeld).toBeLessThanOrEqual(HEAP_RETAIN_FRAMES);
  });

  it('unmaps the whole pages inside a large free block (a hole) and maps them again on reuse', () => {
    const { heap, machine, frames } = setup();
    const a = heap.kmalloc(64 * 1024)!;
    const b = heap.kmalloc(64 * 1024)!;
    expect(b).toBeGreaterThan(a);
    const held = frames.usedCount;
    heap.kfree(a);
    const s = heap.stats();
    expect(s.bytesUnmapped).toBeGreaterThanOrEqual(15 * PAGE);
    expect(frames.usedCount).toBe(held - s.bytesUnmapped / PAGE);
    expect(() => machine.read32(a + 8 * PAGE)).toThrow(PageFault);
    expect(heap.check()).toEqual([]);
    const again = heap.kmalloc(60 * 1024)!;
    expect(again).toBeLessThan(b);
    fillPattern(machine, again, 60 * 1024, 9);
    expect(findDamage(machine, again, 60 * 1024, 9)).toBe(-1);
    expect(heap.stats().bytesUnmapped).toBeLessThan(s.bytesUnmapped);
    expect(heap.check()).toEqual([]);
    heap.kfree(again);
    heap.kfree(b);
    expect(heap.check()).toEqual([]);
    expect(heap.stats().framesHeld).toBeLessThanOrEqual(HEAP_RETAIN_FRAMES);
  });

  it('after freeing everything holds at most HEAP_RETAIN_FRAMES frames, the rest back in the frame allocator', () => {
    const { backend, frames } = heapRig();
    const before = frames.freeCount;
    const heap = KrHeap.create(backend);
    const ptrs: LinAddr[] = [];
    for (let i = 0; i < 300; i++) ptrs.push(heap.kmalloc(1 + ((i * 7919) % 20000))!);
    expect(heap.stats().framesHeld).toBeGreaterThan(100);
    for (let i = 0; i < ptrs.length; i += 2) heap.kfree(ptrs[i]);
    for (let i = 1; i < ptrs.length; i += 2) heap.kfree(ptrs[i]);
    const s = heap.stats();
    expect(s.blocksInUse).toBe(0);
    expect(s.bytesInUse).toBe(0);
    expect(s.framesHeld).toBeLessThanOrEqual(HEAP_RETAIN_FRAMES);
    expect(before - frames.freeCount).toBe(s.framesHeld + backend.tablesAllocated);
    expect(heap.check()).toEqual([]);
  });
});

describe('K&R heap: the C API', () => {
  it('kcalloc returns zeroed memory even where old data lay', () => {
    const { heap, machine } = setup();
    const dirty = heap.kmalloc(3000)!;
    fillPattern(machine, dirty, 3000, 1);
    heap.kfree(dirty);
    const z = heap.kcalloc(30, 100)!;
    expect(Array.from(machine.readBytes(z, 3000)).every((b) => b === 0)).toBe(true);
    expect(heap.kcalloc(0x10000, 0x10000)).toBeNull();
  });

  it('krealloc shrinks in place, grows in place into a free neighbour, or moves, keeping the contents', () => {
    const { heap, machine } = setup();
    const a = heap.kmalloc(1000)!;
    fillPattern(machine, a, 1000, 4);
    expect(heap.krealloc(a, 200)).toBe(a);
    expect(findDamage(machine, a, 200, 4)).toBe(-1);
    const c = heap.kmalloc(1000)!;
    const b = heap.kmalloc(500)!;
    expect(b + 512).toBe(c - 16);
    fillPattern(machine, b, 500, 5);
    const lower = heap.kmalloc(64)!;
    heap.kfree(c);
    expect(heap.krealloc(b, 700)).toBe(b);
    expect(heap.usableSize(b)).toBe(704);
    expect(findDamage(machine, b, 500, 5)).toBe(-1);
    expect(heap.check()).toEqual([]);
    const moved = heap.krealloc(b, 20000)!;
    expect(moved).not.toBe(b);
    expect(findDamage(machine, moved, 500, 5)).toBe(-1);
    expect(heap.krealloc(null, 10)).not.toBeNull();
    expect(heap.krealloc(lower, 0)).toBeNull();
    expect(heap.check()).toEqual([]);
  });

  it('kmallocAligned returns 4 KiB-aligned buffers (and any power of two)', () => {
    const { heap, machine } = setup();
    const small = heap.kmalloc(40)!;
    for (const align of [32, 64, 4096, 4096, 16384]) {
      const p = heap.kmallocAligned(4096, align)!;
      expect(p % align).toBe(0);
      fillPattern(machine, p, 4096, align);
    }
    expect(() => heap.kmallocAligned(10, 48)).toThrow(/power of two/);
    heap.kfree(small);
    expect(heap.check()).toEqual([]);
  });

  it('rejects sizes that are not byte counts and returns null for sizes beyond the region', () => {
    const { heap } = setup();
    expect(() => heap.kmalloc(-1)).toThrow(/whole number/);
    expect(() => heap.kmalloc(1.5)).toThrow(/whole number/);
    expect(heap.kmalloc(0x10000000)).toBeNull();
    expect(heap.kmalloc(0)).not.toBeNull();
  });
});

describe('K&R heap: state in memory, statistics, exhaustion', () => {
  it('keeps all its state in simulated RAM: a second handle attached to the memory sees the same heap', () => {
    const { heap, backend, machine } = setup();
    const a = heap.kmalloc(300)!;
    const b = heap.kmalloc(9000)!;
    heap.kfree(a);
    const twin = KrHeap.attach(backend);
    expect(twin.stats()).toEqual(heap.stats());
    twin.kfree(b);
    expect(heap.stats().blocksInUse).toBe(0);
    expect(() => KrHeap.attach(backend, KR_BASE + PAGE * 4096)).toThrow();
    machine.write32(KR_BASE + 0x40, 0);
    expect(() => KrHeap.attach(backend)).toThrow(/no heap control block/);
  });

  it('statistics: bytes in use, free, frames held, fragmentation', () => {
    const { heap } = setup();
    const ptrs = Array.from({ length: 8 }, (_, i) => heap.kmalloc(100 * (i + 1))!);
    let s = heap.stats();
    expect(s.bytesInUse).toBe(3600);
    expect(s.blocksInUse).toBe(8);
    expect(s.bytesAllocated).toBeGreaterThan(3600);
    expect(s.bytesFree + s.bytesAllocated + CONTROL_SIZE + s.bytesUnmapped).toBe(s.framesHeld * PAGE + s.bytesUnmapped);
    for (let i = 0; i < 8; i += 2) heap.kfree(ptrs[i]);
    s = heap.stats();
    expect(s.freeBlocks).toBeGreaterThan(1);
    expect(s.fragmentation).toBeGreaterThan(0);
    expect(s.fragmentation).toBeLessThan(1);
    expect(s.mallocs).toBe(8);
    expect(s.frees).toBe(4);
    expect(s.peakBytesInUse).toBe(3600);
  });

  it('returns null when frames run out, and the heap stays consistent with nothing leaked', () => {
    const { heap, frames, backend } = setup(24);
    const ptrs: LinAddr[] = [];
    for (;;) {
      const p = heap.kmalloc(3000);
      if (p === null) break;
      ptrs.push(p);
    }
    expect(ptrs.length).toBeGreaterThan(5);
    expect(heap.check()).toEqual([]);
    expect(frames.usedCount).toBe(heap.stats().framesHeld + backend.tablesAllocated);
    for (const p of ptrs) heap.kfree(p);
    expect(heap.check()).toEqual([]);
    expect(heap.kmalloc(3000)).not.toBeNull();
  });

  it('a pointer kmalloc returned stays valid across kfree of others (usableSize)', () => {
    const { heap } = setup();
    const a = heap.kmalloc(33)!;
    expect(heap.usableSize(a)).toBe(48);
    expect(heap.usableSize(lin(heap.kmallocAligned(100, 4096)!))).toBeGreaterThanOrEqual(100);
  });
});
