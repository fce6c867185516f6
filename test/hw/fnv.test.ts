// One FNV-1a step (src/hw/fnv.ts) and its hand-inlined copies in the replay's hot loops: Mmu.translateDigest
// with paging off, without a TLB (walkDigest), with one way per set (Tlb.hitDigestPlain) and with LRU
// (Tlb.hitDigestLru), and the misses it fills (hitOrFillDigest). Each must give the digest fnvStep gives.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../src/hw/fault.js';
import { FNV_OFFSET, FNV_PRIME, fnvStep } from '../../src/hw/fnv.js';
import { Machine } from '../../src/hw/machine.js';
import { PTE_A, PTE_D, PTE_P, PTE_RW } from '../../src/hw/paging.js';
import { map4k, paged } from './util.js';

/** slowStep is FNV-1a's step in exact integer arithmetic, independent of Math.imul. */
function slowStep(h: number, word: number): number {
  return Number((BigInt((h ^ word) >>> 0) * BigInt(FNV_PRIME)) & 0xffffffffn);
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe('fnvStep', () => {
  it('is (h XOR word) * 16777619 mod 2^32, unsigned, for any 32-bit h and word', () => {
    fc.assert(fc.property(u32, u32, (h, w) => fnvStep(h, w) === slowStep(h, w)));
    expect(FNV_OFFSET).toBe(0x811c9dc5);
    expect(fnvStep(FNV_OFFSET, 0)).toBe(slowStep(0x811c9dc5, 0));
  });

  it('takes the digest signed or unsigned alike (the hot loops keep it as an int32)', () => {
    fc.assert(fc.property(u32, u32, (h, w) => fnvStep(h | 0, w) === fnvStep(h, w)));
  });
});

/** machine maps 16 pages at 0x40000000 with A (and D) already set, so walkFast resolves every miss. */
function machine(tlb: string, paging: boolean): Machine {
  if (!paging) return new Machine({ ram: 8 << 20, tlb });
  const m = paged({ tlb, ram: 8 << 20 });
  for (let p = 0; p < 16; p++)
    map4k(m, 0x40000000 + p * 4096, 0x300000 + p * 0x2000, PTE_P | PTE_RW | PTE_A | PTE_D, PTE_P | PTE_RW | PTE_A);
  return m;
}

/** byDigest runs the accesses as the replay does; returns the digest and how many translateDigest handled. */
function byDigest(m: Machine, lin: Uint32Array, kind: Uint8Array): [number, number] {
  let h = FNV_OFFSET,
    batched = 0;
  for (let i = 0; i < lin.length;) {
    const j = m.mmu.translateDigest(lin, kind, i, lin.length, h);
    batched += j - i;
    h = m.mmu.digest;
    if (j === lin.length) break;
    h = fnvStep(h, m.mmu.translate(lin[j], kind[j] as AccessKind));
    i = j + 1;
  }
  return [h, batched];
}

describe('the inlined copies give fnvStep digests', () => {
  const access = fc.record({ page: fc.integer({ min: 0, max: 15 }), offset: fc.nat(4095), write: fc.boolean() });
  for (const [tlb, paging] of [
    ['none', false],
    ['none', true],
    ['dm:4', true],
    ['sa:2x2', true],
    ['fa:8', true],
  ] as const) {
    it(`translateDigest equals fnvStep over translate() (tlb ${tlb}, paging ${paging ? 'on' : 'off'})`, () => {
      fc.assert(
        fc.property(fc.array(access, { minLength: 1, maxLength: 200 }), (accesses) => {
          const lin = Uint32Array.from(accesses, (a) => 0x40000000 + a.page * 4096 + a.offset);
          const kind = Uint8Array.from(accesses, (a) => (a.write ? ACCESS_WRITE : ACCESS_READ));
          const [digest, batched] = byDigest(machine(tlb, paging), lin, kind);
          const ref = machine(tlb, paging);
          let h = FNV_OFFSET;
          for (let i = 0; i < lin.length; i++) h = fnvStep(h, ref.mmu.translate(lin[i], kind[i] as AccessKind));
          expect(digest).toBe(h);
          expect(batched, 'every access is a hit or a walkFast miss: the batched loops take all').toBe(lin.length);
        }),
        { numRuns: 60 },
      );
    });
  }
});
