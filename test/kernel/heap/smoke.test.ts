import { describe, expect, it } from 'vitest';
import { KrHeap } from '../../../src/kernel/heap/kr.js';
import { heapRig } from './testbackend.js';

describe('smoke', () => {
  it('works', () => {
    const rig = heapRig();
    const h = KrHeap.create(rig.backend);
    expect(h.check()).toEqual([]);
    const ptrs = [];
    for (let i = 0; i < 100; i++) { const p = h.kmalloc(1 + ((i * 7919) % 5000)); expect(p).not.toBeNull(); ptrs.push(p!); }
    expect(h.check()).toEqual([]);
    for (let i = 0; i < 100; i += 2) h.kfree(ptrs[i]!);
    expect(h.check()).toEqual([]);
    for (let i = 1; i < 100; i += 2) h.kfree(ptrs[i]!);
    expect(h.check()).toEqual([]);
    console.log(h.stats(), rig.frames.usedCount, rig.backend.tablesAllocated);
  });
});
