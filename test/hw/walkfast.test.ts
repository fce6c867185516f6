// The walk's fast path (walkFast) and the batched translateDigest that uses
// it: walkFast must agree with the full walk wherever it answers, answer
// whenever the full walk would succeed without writing memory, and the
// digest loop must leave the machine exactly as translate() one access at a
// time would.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../src/hw/fault.js';
import { fnvStep } from '../../src/hw/fnv.js';
import { FRAME_MASK, PDE_PS, PTE_A, PTE_D, PTE_G, PTE_P, PTE_RW, PTE_US } from '../../src/hw/paging.js';
import type { Machine } from '../../src/hw/machine.js';
import { fastEntryBits, needOf, walk, walkFast, WalkState } from '../../src/hw/walk.js';
import { DIR, map4k, paged, pdeAddr, pteAddr } from './util.js';

const LIN = 0x40123abc;
const PHYS = 0x00456000;
/** Any low 12 bits: P, R/W, U/S, PWT, PCD, A, D, PS/PAT, G and the ignored bits. */
const flags12 = fc.integer({ min: 0, max: 0xfff });
const kindArb = fc.constantFrom<AccessKind>(ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH);

describe('walkFast: the read-only common case of the walk (SDM 4.3, 4.6, 4.8)', () => {
  it('agrees with walk() where it answers, and declines only where walk() faults, writes A/D or maps 4 MiB', () => {
    const machines = new Map<string, Machine>(); // one per (WP, PSE): walk() reads no TLB
    fc.assert(
      fc.property(
        flags12,
        flags12,
        kindArb,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (pdeF, pteF, kind, user, wp, pse) => {
          const key = `${wp} ${pse}`;
          const m = machines.get(key) ?? paged({ tlb: 'none', wp, pse, ram: 8 << 20 });
          machines.set(key, m);
          map4k(m, LIN, PHYS, pteF, pdeF);
          const pde = m.mem.read32(pdeAddr(LIN));
          const pte = m.mem.read32(pteAddr(LIN));
          const fast = walkFast(m.mem, DIR, LIN, fastEntryBits(needOf(kind, user), wp), kind === ACCESS_WRITE);
          const w = new WalkState();
          const phys = walk(m.mem, m.mmu, LIN, kind, user, true, w);
          const unchanged = m.mem.read32(pdeAddr(LIN)) === pde && m.mem.read32(pteAddr(LIN)) === pte;
          if (fast !== 0) {
            expect(fast >>> 0).toBe(pte);
            expect(phys).toBe(((fast & FRAME_MASK) >>> 0) + (LIN & 0xfff));
            expect(unchanged).toBe(true);
            expect(w.large).toBe(false);
          } else {
            expect(phys < 0 || !unchanged || w.large || (pde & PDE_PS) !== 0).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads entries at any directory base, including one above 2 GiB (int32 addresses)', () => {
    const m = paged({
      tlb: 'none',
      ram: [
        { base: 0, length: 0x100000 },
        { base: 0x80000000, length: 0x100000 },
      ],
    });
    const dir = 0x80010000;
    const table = 0x80020000;
    m.mem.write32(dir + (LIN >>> 22) * 4, table | PTE_P | PTE_RW | PTE_US | PTE_A);
    m.mem.write32(table + ((LIN >>> 12) & 0x3ff) * 4, 0x80030000 | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
    m.mmu.writeCr3(dir);
    const pte = walkFast(m.mem, dir | 0, LIN, fastEntryBits(needOf(ACCESS_WRITE, true), true), true);
    expect(pte >>> 0).toBe((0x80030000 | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D) >>> 0);
    expect(m.mmu.translate(LIN, ACCESS_WRITE)).toBe(0x80030000 + (LIN & 0xfff));
  });
});

/** fold mixes one translation into an FNV-1a digest, as the trace replay does. */
const fold = fnvStep;

/**
 * byDigest runs the accesses as the trace replay does: translateDigest, then
 * translate() for the access it stopped at.
 */
function byDigest(m: Machine, lin: Uint32Array, kind: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < lin.length;) {
    i = m.mmu.translateDigest(lin, kind, i, lin.length, h);
    h = m.mmu.digest;
    if (i === lin.length) break;
    h = fold(h, m.mmu.translate(lin[i], kind[i] as AccessKind));
    i++;
  }
  return h;
}

/** oneByOne runs the same accesses through translate() alone. */
function oneByOne(m: Machine, lin: Uint32Array, kind: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < lin.length; i++) h = fold(h, m.mmu.translate(lin[i], kind[i] as AccessKind));
  return h;
}

/** setup maps 8 pages with the given PTE flags (some not present), the PDE with A set or not. */
function setup(tlb: string, pteFlags: number[], pdeA: boolean, user: boolean): Machine {
  const m = paged({ tlb, pge: true, ram: 8 << 20 });
  pteFlags.forEach((f, p) =>
    map4k(m, 0x40000000 + p * 4096, 0x300000 + p * 4096, f, PTE_P | PTE_RW | PTE_US | (pdeA ? PTE_A : 0)),
  );
  m.mmu.setCpl(user ? 3 : 0);
  return m;
}

/** state is everything observable afterwards: counters, CR2, error code and the entries in memory. */
function state(m: Machine, pages: number): unknown[] {
  const entries = [m.mem.read32(pdeAddr(0x40000000))];
  for (let p = 0; p < pages; p++) entries.push(m.mem.read32(pteAddr(0x40000000 + p * 4096)));
  return [m.mmu.counters(), m.mmu.cr2, m.mmu.faultCode, entries];
}

describe('Mmu.translateDigest with misses resolved by walkFast', () => {
  const pteArb = fc
    .integer({ min: 0, max: 31 })
    .map(
      (b) =>
        (b & 1 ? PTE_P : 0) |
        (b & 2 ? PTE_RW : 0) |
        (b & 4 ? PTE_US : 0) |
        (b & 8 ? PTE_A : 0) |
        (b & 16 ? PTE_D : 0) |
        (b === 0 ? 0 : PTE_P) |
        PTE_G,
    );
  const accessArb = fc.record({
    page: fc.integer({ min: 0, max: 7 }),
    offset: fc.integer({ min: 0, max: 4095 }),
    kind: kindArb,
  });
  for (const tlb of ['none', 'dm:4', 'fa:4', 'sa:2x2']) {
    it(`leaves digest, counters, CR2 and memory as translate() one at a time does (${tlb})`, () => {
      fc.assert(
        fc.property(
          fc.array(pteArb, { minLength: 8, maxLength: 8 }),
          fc.boolean(),
          fc.boolean(),
          fc.array(accessArb, { maxLength: 60 }),
          (ptes, pdeA, user, accesses) => {
            const lin = Uint32Array.from(accesses, (a) => 0x40000000 + a.page * 4096 + a.offset);
            const kind = Uint8Array.from(accesses, (a) => a.kind);
            const a = setup(tlb, ptes, pdeA, user);
            const b = setup(tlb, ptes, pdeA, user);
            expect(byDigest(a, lin, kind)).toBe(oneByOne(b, lin, kind));
            expect(state(a, 8)).toEqual(state(b, 8));
            /** The TLBs hold the same translations: a second pass agrees too. */
            expect(byDigest(a, lin, kind)).toBe(oneByOne(b, lin, kind));
            expect(state(a, 8)).toEqual(state(b, 8));
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('fills a miss whose entries need no A/D update, counting a miss and a walk', () => {
    const m = paged({ tlb: 'fa:4' });
    map4k(m, 0x40000000, 0x300000, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D, PTE_P | PTE_RW | PTE_US | PTE_A);
    const lin = Uint32Array.of(0x40000010, 0x40000020, 0x40000030);
    expect(m.mmu.translateDigest(lin, Uint8Array.of(1, 0, 1), 0, 3, 0x811c9dc5)).toBe(3);
    expect(m.mmu.counters()).toMatchObject({ hits: 2, misses: 1, walks: 1, fills: 1 });
  });
});
