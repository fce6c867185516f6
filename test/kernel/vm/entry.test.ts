// Frames read out of paging entries come out unsigned and without flag bits; entry addresses step by 4 bytes.

import { describe, expect, it } from 'vitest';
import { phys } from '../../../src/hw/addr.js';
import { PDE_PS, PTE_A, PTE_D, PTE_G, PTE_P, PTE_RW, PTE_US } from '../../../src/hw/paging.js';
import { entryAddr, entryFrame, largeFrame } from '../../../src/kernel/vm/entry.js';

const FLAGS = PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | PTE_G;

describe('paging-entry addresses', () => {
  it('entryFrame keeps bits 31:12, unsigned, whatever the flags', () => {
    expect(entryFrame(0xfffff000 | FLAGS)).toBe(0xfffff000);
    expect(entryFrame(0x80001000 | FLAGS | 0)).toBe(0x80001000); // an int32 entry with bit 31 set
    expect(entryFrame(0x00000fff)).toBe(0);
  });

  it('largeFrame keeps bits 31:22 of a PS=1 PDE, dropping the PSE-36 and PAT bits below', () => {
    expect(largeFrame(0xffc00000 | PDE_PS | FLAGS | 0x3fe000)).toBe(0xffc00000);
    expect(largeFrame(0x00400000 | PDE_PS | PTE_P)).toBe(0x00400000);
  });

  it('entryAddr is the table plus 4 bytes an entry', () => {
    expect(entryAddr(phys(0x1000), 0)).toBe(0x1000);
    expect(entryAddr(phys(0x1000), 1023)).toBe(0x1ffc);
  });
});
