import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PTE_P } from '../../../src/hw/paging.js';
import { isSwapEntry, swapEntry, SwapEntryError, swapSlot, SWP_MAX_SLOTS } from '../../../src/kernel/swap/pte.js';

describe('swap PTE encoding', () => {
  it('puts the slot in bits 31:12 with P = 0 and the marker in bit 1', () => {
    expect(swapEntry(0)).toBe(0x00000002);
    expect(swapEntry(1)).toBe(0x00001002);
    expect(swapEntry(SWP_MAX_SLOTS - 1)).toBe(0xfffff002);
    expect(swapEntry(5) & PTE_P).toBe(0);
  });

  it('round-trips every slot', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SWP_MAX_SLOTS - 1 }), (s) => {
        const e = swapEntry(s);
        expect(isSwapEntry(e)).toBe(true);
        expect(swapSlot(e)).toBe(s);
      }),
    );
  });

  it('tells a swap entry from an empty, a present or a malformed PTE', () => {
    expect(isSwapEntry(0)).toBe(false);
    expect(isSwapEntry(0x00005003)).toBe(false); // present, RW
    expect(isSwapEntry(0x00005006)).toBe(false); // bit 2 set
    expect(() => swapSlot(0x00005007)).toThrow(/PTE 0x00005007 is not a swap entry/);
    expect(() => swapSlot(0)).toThrow(SwapEntryError);
  });

  it('rejects slots out of range', () => {
    expect(() => swapEntry(-1)).toThrow(/swap slot -1 out of range/);
    expect(() => swapEntry(SWP_MAX_SLOTS)).toThrow(SwapEntryError);
    expect(() => swapEntry(1.5)).toThrow(SwapEntryError);
  });
});
