// Property: with the TLB set to none and with any geometry, a program that
// issues the right INVLPGs (or CR3 reloads) after every page-table edit sees
// exactly the same results: values, faults, CR2, and A/D bits in memory.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../src/hw/fault.js';
import { PTE_G, PTE_P, PTE_RW, PTE_US } from '../../src/hw/paging.js';
import { DIR, faultOf, map4k, map4m, paged, pdeAddr, pteAddr, tableFor } from './util.js';

type Op =
  | { op: 'access'; page: number; offset: number; size: 1 | 2 | 4; kind: AccessKind; user: boolean; value: number }
  | { op: 'edit'; page: number; frame: number; flags: number; flush: 'invlpg' | 'cr3' }
  | { op: 'large'; region: number; frame: number; flags: number; flush: 'invlpg' | 'cr3'; at: number };

const PAGES = 24; // pages 0..11 of region 0x40000000 and 0..11 of region 0x40400000
const pageLin = (p: number): number => 0x40000000 + (p >= 12 ? 0x400000 + (p - 12) * 4096 : p * 4096);
/** Offsets near both ends of a page, so accesses can straddle and the prefilled bytes are what is read. */
const offsetArb = fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 4080, max: 4095 }));
const flagsArb = fc
  .integer({ min: 0, max: 15 })
  .map(
    (b) =>
      (b & 1 ? PTE_P : 0) | (b & 2 ? PTE_RW : 0) | (b & 4 ? PTE_US : 0) | (b & 8 ? PTE_G : 0) | (b === 0 ? 0 : PTE_P),
  );
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('access' as const),
      page: fc.integer({ min: 0, max: PAGES - 1 }),
      offset: offsetArb,
      size: fc.constantFrom(1 as const, 2 as const, 4 as const),
      kind: fc.constantFrom(ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH),
      user: fc.boolean(),
      value: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('edit' as const),
      page: fc.integer({ min: 0, max: PAGES - 1 }),
      frame: fc.integer({ min: 0, max: 31 }),
      flags: flagsArb,
      flush: fc.constantFrom('invlpg' as const, 'cr3' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('large' as const),
      region: fc.integer({ min: 0, max: 1 }),
      frame: fc.integer({ min: 1, max: 3 }),
      flags: flagsArb,
      flush: fc.constantFrom('invlpg' as const, 'cr3' as const),
      at: fc.integer({ min: 0, max: 0x3fffff }),
    }),
  },
);

/** run executes the ops on a fresh machine and returns everything observable. */
function run(tlb: string, wp: boolean, ops: Op[]): unknown[] {
  const m = paged({ tlb, wp, pge: true });
  for (let p = 0; p < PAGES; p++) map4k(m, pageLin(p), 0x800000 + (p % 32) * 4096, PTE_P | PTE_RW | PTE_US);
  prefill(m);
  const out: unknown[] = [];
  for (const o of ops) {
    if (o.op === 'access') {
      m.mmu.setCpl(o.user ? 3 : 0);
      const lin = pageLin(o.page) + o.offset;
      let value: number | null = null;
      const f = faultOf(() => {
        if (o.kind === ACCESS_WRITE) m.write(lin, o.value, o.size);
        else value = m.read(lin, o.size, o.kind);
      });
      out.push(f ?? value);
    } else if (o.op === 'edit') {
      const lin = pageLin(o.page);
      if ((m.mem.read32(pdeAddr(lin)) & 0x80) !== 0) continue; // region currently a 4 MiB page
      m.mem.write32(pteAddr(lin), (0x800000 + o.frame * 4096) | o.flags);
      flush(m, lin, o.flush);
    } else {
      const lin = 0x40000000 + o.region * 0x400000;
      const wasLarge = (m.mem.read32(pdeAddr(lin)) & 0x81) === 0x81;
      if (o.flags & PTE_P) map4m(m, lin, o.frame * 0x400000, o.flags);
      else m.mem.write32(pdeAddr(lin), tableFor(lin >>> 22) | PTE_P | PTE_RW | PTE_US);
      // One INVLPG anywhere in a 4 MiB page drops it whole (SDM 4.10.4.1); 4 KiB pages need one each.
      if (wasLarge) flush(m, lin + o.at, o.flush);
      else for (let a = lin; a < lin + 0x400000; a += 4096) flush(m, a, o.flush);
    }
  }
  for (let p = 0; p < PAGES; p++) out.push(m.mem.read32(pteAddr(pageLin(p))));
  out.push(m.mem.read32(DIR + 0x100 * 4), m.mem.read32(DIR + 0x101 * 4));
  return out;
}

/** prefill gives the first and last 16 bytes of every frame a case can reach a distinct value. */
function prefill(m: ReturnType<typeof paged>): void {
  const frames: number[] = [];
  for (let f = 0; f < 32; f++) frames.push(0x800000 + f * 4096);
  for (let big = 1; big <= 3; big++) for (let p = 0; p < 12; p++) frames.push(big * 0x400000 + p * 4096);
  for (const f of frames) {
    for (let o = 0; o < 16; o += 4) {
      m.mem.write32(f + o, (f + o) ^ 0x5a5a5a5a);
      m.mem.write32(f + 4080 + o, (f + 4080 + o) ^ 0xa5a5a5a5);
    }
  }
}

/** flush applies the invalidation the edit needs; global entries need a CR4.PGE toggle for 'cr3'. */
function flush(m: ReturnType<typeof paged>, lin: number, how: 'invlpg' | 'cr3'): void {
  if (how === 'invlpg') m.mmu.invlpg(lin);
  else {
    m.mmu.writeCr3(m.mmu.cr3);
    m.mmu.invlpg(lin); // a CR3 reload keeps global entries (SDM 4.10.4.1); the edited page may be one
  }
}

describe('property: every TLB geometry agrees with no TLB after the right invalidations', () => {
  it('random page-table edits and accesses', () => {
    const geometry = fc.constantFrom(
      'dm:1',
      'dm:4',
      'dm:64',
      'fa:1',
      'fa:3',
      'fa:16',
      'fa:64',
      'sa:2x2',
      'sa:4x3',
      'sa:16x4',
    );
    fc.assert(
      fc.property(geometry, fc.boolean(), fc.array(opArb, { minLength: 20, maxLength: 80 }), (g, wp, ops) => {
        expect(run(g, wp, ops)).toEqual(run('none', wp, ops));
      }),
      { numRuns: 150 },
    );
  });
});
