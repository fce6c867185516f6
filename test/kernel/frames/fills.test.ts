import { describe, expect, it } from 'vitest';
import { FRAME_STRATEGIES } from '../../../src/kernel/frames/api.js';
import { POISON_BYTE } from '../../../src/kernel/frames/base.js';
import { bootWith } from './helpers.js';

const LINK_BYTES = { bitmap: 0, list: 4, buddy: 8 } as const;

describe('frame allocators: poison on free, zero on request', () => {
  for (const strategy of FRAME_STRATEGIES) {
    it(`${strategy}: a freed frame holds the poison pattern (past its links); alloc({zero}) returns it zeroed`, () => {
      const b = bootWith(16 << 20, strategy, { poison: true });
      const f = b.alloc.alloc()!;
      b.machine.mem.fill(f, 4096, 0x5c);
      b.alloc.free(f);
      const bytes = b.machine.mem.readBytes(f, 4096);
      expect(bytes.subarray(LINK_BYTES[strategy]).every((x) => x === POISON_BYTE)).toBe(true);
      const again = b.alloc.alloc({ zero: true })!;
      expect(again).toBe(f); // LIFO for the list and the buddy lists, lowest-first for the bitmap
      expect(b.machine.mem.readBytes(again, 4096).every((x) => x === 0)).toBe(true);
    });

    it(`${strategy}: without poisoning or zeroing, a frame's contents are left alone (links excepted)`, () => {
      const b = bootWith(16 << 20, strategy);
      const f = b.alloc.alloc()!;
      b.machine.mem.fill(f, 4096, 0x5c);
      b.alloc.free(f);
      expect(
        b.machine.mem
          .readBytes(f, 4096)
          .subarray(LINK_BYTES[strategy])
          .every((x) => x === 0x5c),
      ).toBe(true);
      expect(b.alloc.alloc()).toBe(f);
    });
  }

  for (const strategy of ['bitmap', 'buddy'] as const) {
    it(`${strategy}: allocContiguous({zero}) zeroes every frame of the block`, () => {
      const b = bootWith(16 << 20, strategy, { poison: true });
      const block = b.alloc.allocContiguous(3)!;
      b.machine.mem.fill(block, 8 * 4096, 0x77);
      b.alloc.freeContiguous(block, 3);
      expect(b.machine.mem.readBytes(block + 7 * 4096 + 16, 64).every((x) => x === POISON_BYTE)).toBe(true);
      const again = b.alloc.allocContiguous(3, { zero: true })!;
      expect(again).toBe(block);
      expect(b.machine.mem.readBytes(again, 8 * 4096).every((x) => x === 0)).toBe(true);
    });
  }

  it('all fills go through the temporary-mapping slot, which is left unmapped', () => {
    const b = bootWith(16 << 20, 'list', { poison: true });
    const maps = b.core.slot.maps;
    const f = b.alloc.alloc({ zero: true })!;
    b.alloc.free(f);
    expect(b.core.slot.maps).toBeGreaterThan(maps);
    expect(b.core.slot.inUse).toBe(0);
  });
});
