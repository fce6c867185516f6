// The bare model on the machine's MMU and TLB: exact counters on hand-checked
// traces, every TLB kind against the naive reference, one phys_hash for all.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PagelabError } from '../../../src/errors.js';
import { BareModel } from '../../../src/tools/replay/bare.js';
import { replay } from '../../../src/tools/replay/replay.js';
import { traceFromRecords } from '../../../src/tools/replay/trace.js';
import { countersOf, naiveReplay } from './naive.js';

/** The hand trace (also test/fixtures/replay/small.lackey): worked through in the comments below. */
const HAND: Array<[number, string]> = [
  [0x1000, 'I'], // miss: page table 0 -> frame 2, page 0x1 -> frame 3, phys 0x3000
  [0x1004, 'L'], // hit, 0x3004
  [0x1008, 'S'], // hit on a clean entry: dirty set, 0x3008
  [0x400000, 'L'], // miss: page table 1 -> frame 4, page 0x400 -> frame 5, 0x5000
  [0x2000, 'S'], // miss: page 0x2 -> frame 6 (dirty), 0x6000; fa:2 evicts page 0x1
  [0x1010, 'I'], // fa:2: miss, walk only (0x3010), evicts 0x400; dm:2: hit (set 1 still holds 0x1)
  [0x1fff00400010, 'M'], // low 32 bits 0x400010: miss, walk, sets D, 0x5010
];
const HAND_PHYS = [0x3000, 0x3004, 0x3008, 0x5000, 0x6000, 0x3010, 0x5010];

/** fnv is FNV-1a over 32-bit values as the issue defines it. */
function fnv(values: readonly number[]): string {
  let h = 2166136261;
  for (const v of values) h = Math.imul(h ^ v, 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

const common = {
  records: 7,
  demand_faults: 3,
  page_tables: 2,
  frames_used: 6,
  dirty_pages: 3,
  phys_hash: fnv(HAND_PHYS),
};

describe('bare model, hand-checked', () => {
  it.each([
    ['fa:2', { hits: 2, misses: 5, walks: 5, dirty_sets: 1 }],
    ['dm:2', { hits: 3, misses: 4, walks: 4, dirty_sets: 1 }],
    ['fa:64', { hits: 4, misses: 3, walks: 3, dirty_sets: 2 }],
    ['none', { hits: 0, misses: 7, walks: 7, dirty_sets: 0 }],
  ])('%s', (tlb, expected) => {
    const r = replay(traceFromRecords(HAND), { tlb, ram: 1 << 20 });
    expect({ ...r }).toMatchObject({ ...common, ...expected });
  });

  it('leaves the page tables the issue describes in memory', () => {
    const m = new BareModel(1 << 20, 'fa:2');
    m.run(traceFromRecords(HAND));
    const mem = m.machine.mem;
    expect(m.machine.mmu.cr3).toBe(0x1000);
    expect(mem.read32(0x1000)).toBe(0x2000 | 0x27); // P RW US A
    expect(mem.read32(0x1004)).toBe(0x4000 | 0x27);
    expect(mem.read32(0x2000 + 1 * 4)).toBe(0x3000 | 0x67); // + D
    expect(mem.read32(0x2000 + 2 * 4)).toBe(0x6000 | 0x67);
    expect(mem.read32(0x4000)).toBe(0x5000 | 0x67);
  });

  it('runs out of RAM with a PagelabError', () => {
    const recs: Array<[number, string]> = Array.from({ length: 10 }, (_, i) => [i * 4096, 'L']);
    expect(() => replay(traceFromRecords(recs), { tlb: 'fa:4', ram: 8 * 4096 })).toThrow(PagelabError);
    expect(() => replay(traceFromRecords(recs), { tlb: 'fa:4', ram: 13 * 4096 })).not.toThrow(); // frames 1..12: directory, one table, ten pages;
  });

  it('gives the same counters for every repeat and replays slices like the whole', () => {
    const t = traceFromRecords(HAND);
    const whole = new BareModel(1 << 20, 'dm:2');
    whole.run(t);
    const sliced = new BareModel(1 << 20, 'dm:2');
    for (let i = 0; i < t.length; i += 2) sliced.run(t, i, Math.min(t.length, i + 2));
    expect(sliced.counters()).toEqual(whole.counters());
    expect(replay(t, { tlb: 'dm:2', ram: 1 << 20, repeat: 3 })).toMatchObject(whole.counters());
  });
});

/** Random traces over a few page tables and pages, so that TLBs both hit and miss. */
const recordArb = fc
  .tuple(
    fc
      .oneof(
        fc.integer({ min: 0, max: 40 }).map((p) => p * 4096),
        fc.integer({ min: 0, max: 3 }).chain((t) => fc.integer({ min: 0, max: 7 }).map((p) => t * 0x400000 + p * 4096)),
        fc.nat({ max: 0xffffffff }),
      )
      .chain((base) => fc.integer({ min: 0, max: 4095 }).map((off) => (base & ~0xfff) + off)),
    fc.constantFrom('I', 'L', 'S', 'M'),
  )
  .map(([a, k]) => [a >>> 0, k] as [number, string]);

const CONFIGS = [
  'none',
  'dm:1',
  'dm:4',
  'dm:16',
  'fa:1',
  'fa:3',
  'fa:8',
  'fa:32',
  'sa:2x2',
  'sa:4x3',
  'sa:8x4',
  'sa:1x5',
];

describe('bare model against the naive reference', () => {
  it.each(CONFIGS)('%s on random traces', (tlb) => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 300 }), (recs) => {
        const r = replay(traceFromRecords(recs), { tlb, ram: 1 << 24 });
        expect(countersOf(r)).toEqual(naiveReplay(recs, tlb));
      }),
      { numRuns: 60 },
    );
  });

  it('gives one phys_hash (and the same mapping) under every TLB configuration', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 200 }), (recs) => {
        const t = traceFromRecords(recs);
        const results = CONFIGS.map((tlb) => replay(t, { tlb, ram: 1 << 24 }));
        for (const r of results) {
          expect(r.phys_hash).toBe(results[0].phys_hash);
          expect([r.frames_used, r.demand_faults, r.dirty_pages]).toEqual([
            results[0].frames_used,
            results[0].demand_faults,
            results[0].dirty_pages,
          ]);
          expect(r.hits + r.misses).toBe(recs.length);
        }
      }),
      { numRuns: 30 },
    );
  });
});
