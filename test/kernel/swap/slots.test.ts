import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BootInfo } from '../../../src/boot/handoff.js';
import { kernelInit } from '../../../src/kernel/main.js';
import { SwapSlotError, SwapSlots } from '../../../src/kernel/swap/slots.js';
import { fakeBoot } from '../fakeboot.js';

/** setup boots a kernel and lays out a swap map of n slots on its heap. */
function setup(n: number): { info: BootInfo; slots: SwapSlots } {
  const info = fakeBoot({ ram: 16 << 20 });
  const k = kernelInit(info, { frames: 'bitmap', heap: 'kr' });
  return { info, slots: SwapSlots.create(info.machine, k.heap, n) };
}

describe('swap slot map in kernel RAM', () => {
  it('allocates the lowest free slot, shares it, frees it at the last sharer', () => {
    const { slots } = setup(40);
    expect(slots.alloc()).toBe(0);
    expect(slots.alloc()).toBe(1);
    slots.dup(0);
    expect(slots.count(0)).toBe(2);
    slots.put(0);
    expect(slots.alloc()).toBe(2); // 0 still has a sharer
    slots.put(0);
    expect(slots.alloc()).toBe(0);
    expect(slots.nfree()).toBe(37);
    slots.audit();
  });

  it('returns null when full, then changes nothing', () => {
    const { slots } = setup(33);
    for (let i = 0; i < 33; i++) expect(slots.alloc()).toBe(i);
    expect(slots.alloc()).toBeNull();
    expect(slots.nfree()).toBe(0);
    slots.audit();
  });

  it('matches a model over random alloc/dup/put sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2), fc.nat(40)), { maxLength: 80 }), (ops) => {
        const { slots } = setup(37);
        const model = new Map<number, number>();
        for (const [op, pick] of ops) {
          const live = [...model.keys()];
          if (op === 0 || live.length === 0) {
            const s = slots.alloc();
            if (s !== null) model.set(s, 1);
            else expect(model.size).toBe(37);
          } else {
            const s = live[pick % live.length];
            if (op === 1) {
              slots.dup(s);
              model.set(s, model.get(s)! + 1);
            } else {
              slots.put(s);
              const c = model.get(s)! - 1;
              if (c === 0) model.delete(s);
              else model.set(s, c);
            }
          }
        }
        for (const [s, c] of model) expect(slots.count(s)).toBe(c);
        expect(slots.nfree()).toBe(37 - model.size);
        slots.audit();
      }),
      { numRuns: 30 },
    );
  });

  it('rejects a double free and changes nothing', () => {
    const { slots } = setup(8);
    const s = slots.alloc()!;
    slots.put(s);
    expect(() => slots.put(s)).toThrow(/swap free of slot 0: not allocated \(double free\?\)/);
    expect(slots.nfree()).toBe(8);
    slots.audit();
    expect(() => slots.put(99)).toThrow(/out of range/);
  });

  it('detects a count underflow (count 0 on an allocated slot) by name', () => {
    const { info, slots } = setup(8);
    const s = slots.alloc()!;
    info.machine.write32(slots.base + 0x10 + 4 + 4 * s, 0); // the count, behind the map's back
    const err = (() => {
      try {
        slots.put(s);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(SwapSlotError);
    expect((err as SwapSlotError).structure).toBe('swap count');
    expect(() => slots.audit()).toThrow(/swap bitmap corrupted/);
  });

  it('detects a corrupted bitmap word by name, in alloc and in audit', () => {
    const { info, slots } = setup(64);
    slots.alloc();
    slots.alloc();
    info.machine.write32(slots.base + 0x10, 0x1); // slot 1's bit cleared: its count says in use
    expect(() => slots.audit()).toThrow(/swap bitmap corrupted \(word 0: slot 1 bit 0, count 1\)/);
    expect(() => slots.alloc()).toThrow(/swap bitmap corrupted \(slot 1 free with a count\)/);
    expect(() => slots.put(1)).toThrow(/swap bitmap corrupted/);
  });
});
