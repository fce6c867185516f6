// The size-class layer: small requests from slab pages of one class each,
// larger ones from the K&R heap; empty slabs given back beyond one per class.

import { describe, expect, it } from 'vitest';
import { hex, type LinAddr } from '../../../src/hw/addr.js';
import { HeapError } from '../../../src/kernel/heap/errors.js';
import { PageFault } from '../../../src/hw/fault.js';
import { createHeap, retainedFrames } from '../../../src/kernel/heap/heap.js';
import { KR_BASE, KR_LIMIT, SLAB_BASE } from '../../../src/kernel/heap/layout.js';
import { heapReport, heapDemo } from '../../../src/kernel/heap/report.js';
import { SLAB_CLASSES, SLAB_HDR, capacity, classOf } from '../../../src/kernel/heap/slabclass.js';
import { SH } from '../../../src/kernel/heap/slabpage.js';
import { findDamage, fillPattern } from './pattern.js';
import { heapRig } from './testbackend.js';

function setup() {
  const rig = heapRig();
  const before = rig.frames.freeCount;
  return { ...rig, before, heap: createHeap(rig.backend, 'slab') };
}

describe('size-class layer', () => {
  it('serves small sizes from slab pages, objects aligned to their class, large sizes from K&R', () => {
    const { heap } = setup();
    expect(classOf(1)).toBe(0);
    expect(classOf(17)).toBe(1);
    expect(classOf(512)).toBe(5);
    expect(classOf(513)).toBe(-1);
    const a = heap.kmalloc(17)!;
    const b = heap.kmalloc(20)!;
    expect(a).toBeGreaterThanOrEqual(SLAB_BASE);
    expect(a % 32).toBe(0);
    expect(Math.abs(b - a)).toBe(32);
    const big = heap.kmalloc(513)!;
    expect(big).toBeGreaterThanOrEqual(KR_BASE);
    expect(big).toBeLessThan(KR_LIMIT);
    expect(heap.kmallocAligned(64, 64)! % 64).toBe(0);
    expect(heap.kmallocAligned(100, 4096)! % 4096).toBe(0);
    expect(heap.check()).toEqual([]);
  });

  it('a full slab makes a new one; emptied slabs go back beyond one kept per class', () => {
    const { heap, machine, frames } = setup();
    const cls = classOf(256);
    const objs: LinAddr[] = [];
    const held0 = heap.stats().framesHeld;
    for (let i = 0; i < capacity(cls) * 3; i++) objs.push(heap.kmalloc(256)!);
    expect(heap.stats().framesHeld).toBe(held0 + 3);
    const pages = [...new Set(objs.map((p) => (p & ~0xfff) >>> 0))];
    expect(pages.length).toBe(3);
    const used = frames.usedCount;
    for (const p of objs) heap.kfree(p);
    expect(heap.stats().framesHeld).toBe(held0 + 1);
    expect(frames.usedCount).toBe(used - 2);
    const gone = pages.filter((p) => {
      try {
        machine.read32(p + SLAB_HDR + SH.CHECK);
        return false;
      } catch (e) {
        return e instanceof PageFault;
      }
    });
    expect(gone.length).toBe(2);
    expect(heap.check()).toEqual([]);
  });

  it('krealloc moves between a slab object and a K&R block, keeping the contents', () => {
    const { heap, machine } = setup();
    const a = heap.kmalloc(100)!;
    fillPattern(machine, a, 100, 7);
    expect(heap.krealloc(a, 120)).toBe(a);
    const b = heap.krealloc(a, 3000)!;
    expect(b).toBeLessThan(KR_LIMIT);
    expect(findDamage(machine, b, 100, 7)).toBe(-1);
    const c = heap.krealloc(b, 40)!;
    expect(findDamage(machine, c, 40, 7)).toBe(-1);
    const d = heap.krealloc(heap.kmalloc(40), 500)!;
    expect(d).toBeGreaterThanOrEqual(SLAB_BASE);
    expect(heap.krealloc(d, 0)).toBeNull();
    expect(heap.check()).toEqual([]);
  });

  it('kcalloc zeroes slab objects', () => {
    const { heap, machine } = setup();
    const a = heap.kmalloc(64)!;
    fillPattern(machine, a, 64, 3);
    heap.kfree(a);
    const z = heap.kcalloc(4, 16)!;
    expect(z).toBe(a);
    expect(Array.from(machine.readBytes(z, 64)).every((x) => x === 0)).toBe(true);
  });

  it('statistics cover both parts; after freeing everything the frames come back but for the documented minimum', () => {
    const { heap, frames, backend, before } = setup();
    const ptrs = Array.from({ length: 400 }, (_, i) => heap.kmalloc(1 + ((i * 37) % 700))!);
    const s = heap.stats();
    expect(s.kind).toBe('slab');
    expect(s.blocksInUse).toBe(400);
    expect(s.framesHeld).toBe(frames.usedCount - backend.tablesAllocated);
    expect(s.peakFrames).toBeGreaterThanOrEqual(s.framesHeld);
    for (const p of ptrs) heap.kfree(p);
    const e = heap.stats();
    expect(e.blocksInUse).toBe(0);
    expect(e.bytesInUse).toBe(0);
    expect(e.framesHeld).toBeLessThanOrEqual(retainedFrames('slab'));
    expect(before - frames.freeCount).toBe(e.framesHeld + backend.tablesAllocated);
    expect(heap.check()).toEqual([]);
  });

  it('a damaged partial-list link fails the slab header check: check() reports it and kfree refuses', () => {
    const { heap, machine } = setup();
    const a = heap.kmalloc(16)!;
    const page = (a & ~0xfff) >>> 0;
    machine.write32(page + SLAB_HDR + SH.PREV, 0x1234);
    expect(heap.check().join()).toMatch(new RegExp(`header of slab ${hex(page)} is overwritten`));
    expect(() => heap.kfree(a)).toThrow(HeapError);
  });

  it('SLAB_CLASSES fit a page each with their header', () => {
    for (let cls = 0; cls < SLAB_CLASSES.length; cls++)
      expect(capacity(cls) * SLAB_CLASSES[cls]).toBeLessThanOrEqual(SLAB_HDR);
  });
});

describe('heap report and demo (for pagelab boot)', () => {
  for (const kind of ['kr', 'slab'] as const) {
    it(`reports statistics as lines and JSON (${kind})`, () => {
      const rig = heapRig();
      const heap = createHeap(rig.backend, kind);
      const demo = heapDemo(heap);
      expect(demo.lines[0]).toBe('heap demo:');
      expect(demo.json.steps.map((s) => s.op)).toContain('kmalloc(65536)');
      const big = demo.json.steps.findIndex((s) => s.op === 'kmalloc(65536)');
      expect(demo.json.steps[big + 1].framesHeld).toBeLessThan(demo.json.steps[big].framesHeld);
      const r = heapReport(heap);
      expect(r.json.kind).toBe(kind);
      expect(r.json.blocksInUse).toBe(2);
      expect(r.json.bytesInUse).toBe(kind === 'kr' ? 300 + 4096 : 512 + 4096);
      expect(r.lines.join('\n')).toMatch(/2 block\(s\) in use/);
      expect(r.lines.join('\n')).toMatch(/frames: \d+ held \(peak \d+\)/);
      expect(heap.check()).toEqual([]);
    });
  }
});
