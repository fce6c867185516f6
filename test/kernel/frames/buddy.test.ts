import { describe, expect, it } from 'vitest';
import type { PhysAddr } from '../../../src/hw/addr.js';
import { BuddyAllocator, STATE_ALLOC, STATE_FREE } from '../../../src/kernel/frames/buddy.js';
import { bootWith } from './helpers.js';

function buddyOn(ram: number): { alloc: BuddyAllocator; mem: { read8(p: number): number } } {
  const b = bootWith(ram, 'buddy');
  if (!(b.alloc instanceof BuddyAllocator)) throw new Error('not a buddy allocator');
  return { alloc: b.alloc, mem: b.machine.mem };
}

describe('buddy allocator', () => {
  it('allocContiguous(k) returns blocks aligned to 2^k frames, for every order 0..10', () => {
    const { alloc } = buddyOn(64 << 20);
    const got: [PhysAddr, number][] = [];
    for (let k = 0; k <= 10; k++) {
      const b = alloc.allocContiguous(k)!;
      expect(b % (4096 * 2 ** k)).toBe(0);
      got.push([b, k]);
    }
    expect(alloc.audit()).toEqual([]);
    for (const [b, k] of got) alloc.freeContiguous(b, k);
    expect(alloc.audit()).toEqual([]);
    expect(alloc.stats().used).toBe(0);
  });

  /** splitPair drains the order-0 list, then takes two frames: the second is the first's buddy (split off a block). */
  function splitPair(alloc: BuddyAllocator): [PhysAddr, PhysAddr] {
    while (alloc.freeBlocks()[0].length > 0) alloc.alloc();
    const a = alloc.alloc()!;
    return [a, alloc.alloc()!];
  }

  it('splits on allocation and merges back with the buddy (pfn XOR 2^k) on free', () => {
    const { alloc, mem } = buddyOn(16 << 20);
    while (alloc.freeBlocks()[0].length > 0) alloc.alloc();
    const before = alloc.freeBlocks().map((l) => l.length);
    const a = alloc.alloc()!;
    expect(alloc.freeBlocks()[0].length).toBe(1); // the split left a's buddy free at order 0
    const b = alloc.alloc()!;
    expect(b).toBe(a ^ 4096);
    const map = alloc.metadata.base + 4096; // the order map follows the header frame
    expect(mem.read8(map + a / 4096)).toBe(STATE_ALLOC | 0);
    alloc.free(a);
    expect(mem.read8(map + a / 4096)).toBe(STATE_FREE | 0);
    alloc.free(b);
    expect(alloc.freeBlocks().map((l) => l.length)).toEqual(before);
    expect(alloc.audit()).toEqual([]);
  });

  it('the audit finds two free buddies at one order (the invariant check can fail)', () => {
    const { alloc } = buddyOn(16 << 20);
    const [a, b] = splitPair(alloc);
    expect(b).toBe(a ^ 4096);
    const raw = alloc as unknown as { pushFree(pfn: number, order: number): void };
    raw.pushFree(a / 4096, 0); // put both back without merging
    raw.pushFree(b / 4096, 0);
    expect(alloc.audit().join('\n')).toMatch(/both free at order 0/);
  });

  it('largest free block after churn is reported; out of contiguous memory returns null', () => {
    const { alloc } = buddyOn(8 << 20);
    expect(alloc.largestFreeOrder()).toBe(10);
    const blocks: PhysAddr[] = [];
    for (let b = alloc.allocContiguous(10); b !== null; b = alloc.allocContiguous(10)) blocks.push(b);
    expect(alloc.allocContiguous(10)).toBeNull();
    expect(alloc.largestFreeOrder()).toBeLessThan(10);
    for (const b of blocks) alloc.freeContiguous(b, 10);
    expect(alloc.largestFreeOrder()).toBe(10);
    expect(alloc.audit()).toEqual([]);
  });
});
