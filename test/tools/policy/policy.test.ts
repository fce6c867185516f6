import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPolicy } from '../../../src/tools/commands/policy.js';
import { POLICY_NAMES, type PolicyName } from '../../../src/tools/policy/policies.js';
import { RefBuilder, parseRefs, type RefString } from '../../../src/tools/policy/refs.js';
import { simulate } from '../../../src/tools/policy/simulate.js';
import { EMPTY } from '../../../src/tools/policy/frames.js';

const SETTINGS = { seed: 1, tick: 8 };
const BELADY = '1,2,3,4,1,2,5,1,2,3,4,5';

/** faults runs one policy over a reference string in the text form. */
function faults(pages: string, frames: number, p: PolicyName, settings = SETTINGS): number {
  return simulate(parseRefs(pages, 'test'), frames, p, settings).faults;
}

/** victims lists the page each miss evicted (-1: a free frame), as the C oracle prints them. */
function victims(refs: RefString, frames: number, p: PolicyName): number[] {
  const out: number[] = [];
  simulate(refs, frames, p, SETTINGS, (s) => {
    if (!s.hit) out.push(s.victim === EMPTY ? -1 : s.victim);
  });
  return out;
}

/** refsOf builds a reference string from numbers (all reads). */
function refsOf(pages: readonly number[]): RefString {
  const b = new RefBuilder();
  for (const p of pages) b.add(p, false);
  return b.done();
}

describe('pagelab policy: textbook answers', () => {
  it("shows Belady's anomaly under FIFO: 9 faults with 3 frames, 10 with 4", () => {
    expect(faults(BELADY, 3, 'fifo')).toBe(9);
    expect(faults(BELADY, 4, 'fifo')).toBe(10);
    // LRU and OPT are stack algorithms: more frames never fault more.
    expect(faults(BELADY, 4, 'lru')).toBeLessThanOrEqual(faults(BELADY, 3, 'lru'));
    expect([faults(BELADY, 3, 'opt'), faults(BELADY, 4, 'opt')]).toEqual([7, 6]);
  });

  it("matches OSTEP's paging-policy.py homework (-s 0 -n 10, cache 3): hits FIFO 1, LRU 2, OPT 4", () => {
    const s0 = '8,7,4,2,5,4,7,3,4,5';
    expect([faults(s0, 3, 'fifo'), faults(s0, 3, 'lru'), faults(s0, 3, 'opt')]).toEqual([9, 8, 6]);
  });

  it("matches OSTEP chapter 22's stream 0,1,2,0,1,3,0,3,1,2,1: hit rates FIFO 36.4%, LRU and OPT 54.5%", () => {
    const s = '0,1,2,0,1,3,0,3,1,2,1';
    expect([faults(s, 3, 'fifo'), faults(s, 3, 'lru'), faults(s, 3, 'opt')]).toEqual([7, 5, 5]);
  });

  it('CLOCK gives a second chance: a page referenced since the hand passed survives one sweep', () => {
    // 3 frames hold 1 2 3 (hand at frame 0, all referenced); 4 clears every bit and takes frame 0;
    // 2 is referenced again, so 5 passes over frame 1 (clearing it) and takes frame 2 (page 3).
    const steps: number[] = [];
    simulate(parseRefs('1,2,3,4,2,5', 't'), 3, 'clock', SETTINGS, (s) => steps.push(s.victim));
    expect(steps).toEqual([EMPTY, EMPTY, EMPTY, 1, EMPTY, 3]);
  });

  it('counts a write to disk for each dirty page evicted, none for clean ones', () => {
    const r = simulate(parseRefs('1w,2,3,4,5', 't'), 3, 'fifo', SETTINGS);
    expect([r.faults, r.evictions, r.writes]).toEqual([5, 2, 1]);
    expect(simulate(parseRefs('1,2,3,4,5', 't'), 3, 'fifo', SETTINGS).writes).toBe(0);
  });

  it('NRU and AGING sample the A bits every --tick references', () => {
    // 1 2 1 3 with 2 frames: with a tick before the third reference only page 1 is referenced anew, so 2 goes;
    // with no tick in the run both pages look alike and the lowest frame (page 1) goes.
    for (const p of ['nru', 'aging'] as const) {
      const v = (tick: number): number[] => {
        const out: number[] = [];
        simulate(parseRefs('1,2,1,3', 't'), 2, p, { seed: 1, tick }, (s) => out.push(s.victim));
        return out;
      };
      expect(v(2)[3]).toBe(2);
      expect(v(100)[3]).toBe(1);
    }
  });

  it('NRU evicts a clean page before a dirty one in the same A class', () => {
    const out: number[] = [];
    simulate(parseRefs('1w,2,3', 't'), 2, 'nru', { seed: 1, tick: 1 }, (s) => out.push(s.victim));
    expect(out[2]).toBe(2);
  });

  it('RAND is reproducible from its seed and varies with it', () => {
    const refs = refsOf(Array.from({ length: 400 }, (_, i) => (i * 7919) % 23));
    const run = (seed: number): number[] => {
      const out: number[] = [];
      simulate(refs, 5, 'rand', { seed, tick: 8 }, (s) => out.push(s.victim));
      return out;
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it('ARC keeps a page referenced twice through a one-time scan that flushes LRU', () => {
    // Pages 1 and 2 are used twice, then a scan of 3..7 passes by, then 1 and 2 come back.
    const s = '1,2,1,2,3,4,5,6,7,1,2';
    expect(faults(s, 3, 'lru')).toBe(9);
    expect(faults(s, 3, 'arc')).toBe(7);
  });
});

describe('pagelab policy: properties', () => {
  const refString = fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 120 });

  it('with frames for every distinct page, every policy faults once per distinct page', () => {
    fc.assert(
      fc.property(refString, (pages) => {
        const distinct = new Set(pages).size;
        for (const p of POLICY_NAMES) expect(simulate(refsOf(pages), distinct, p, SETTINGS).faults).toBe(distinct);
      }),
      { numRuns: 100 },
    );
  });

  it('OPT never faults more than any other policy; LRU and OPT never fault more with more frames', () => {
    fc.assert(
      fc.property(refString, fc.integer({ min: 1, max: 8 }), (pages, frames) => {
        const refs = refsOf(pages);
        const opt = simulate(refs, frames, 'opt', SETTINGS).faults;
        for (const p of POLICY_NAMES) expect(simulate(refs, frames, p, SETTINGS).faults).toBeGreaterThanOrEqual(opt);
        for (const p of ['lru', 'opt'] as const)
          expect(simulate(refs, frames + 1, p, SETTINGS).faults).toBeLessThanOrEqual(
            simulate(refs, frames, p, SETTINGS).faults,
          );
      }),
      { numRuns: 200 },
    );
  });
});

describe('pagelab policy against the C oracle (test/oracle/policy.c)', () => {
  let dir = '';
  let oracle = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pagelab-oracle-'));
    oracle = join(dir, 'policy');
    const cc = spawnSync('cc', ['-O2', '-o', oracle, 'test/oracle/policy.c'], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cannot build the oracle (cc): ${cc.stderr}`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** ask runs the oracle: for each of fifo, lru, opt, clock, the misses and the victims. */
  function ask(pages: readonly number[], frames: number): Map<string, number[]> {
    const text = execFileSync(oracle, { input: `${frames} ${pages.length} ${pages.join(' ')}\n`, encoding: 'utf8' });
    return new Map(
      text
        .trim()
        .split('\n')
        .map((l) => {
          const [name, ...nums] = l.split(' ');
          return [name, nums.map(Number)] as const;
        }),
    );
  }

  it('FIFO, LRU, OPT and CLOCK: the same misses and the same victim at every miss, on random strings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 10 }),
        (pages, frames) => {
          const want = ask(pages, frames);
          for (const p of ['fifo', 'lru', 'opt', 'clock'] as const) {
            const [misses, ...v] = want.get(p) ?? [];
            const got = victims(refsOf(pages), frames, p);
            expect(got.length).toBe(misses);
            expect(got).toEqual(v);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('pagelab policy: the command', () => {
  it('prints every access and the totals in vmsim words, and a summary table for several runs', async () => {
    let text = '';
    await runPolicy({ pages: BELADY, frames: '3,4', policy: 'fifo', seed: '1', tick: '8' }, (s) => (text += s));
    expect(text).toContain('fifo, 3 frames, 12 references');
    expect(text).toMatch(/^ +4 {2}4 +miss +4 2 3 +1$/m);
    expect(text).toMatch(/^ +8 {2}1 +hit +5 1 2 +-$/m);
    expect(text).toContain('Total page faults: 9 (hits 3, hit rate 25.00%)');
    expect(text).toContain('Total page faults: 10 (hits 2, hit rate 16.67%)');
    expect(text).toContain('Total writes to disk: 0');
    expect(text).toMatch(/^frames +policy +faults/m);
  });

  it('--json gives references and results with the totals, and steps when asked', async () => {
    let text = '';
    await runPolicy(
      { pages: '1,2w,3,1', frames: '2', policy: 'lru,opt', seed: '1', tick: '8', json: true, steps: true },
      (s) => (text += s),
    );
    const doc = JSON.parse(text) as { references: number; results: Record<string, unknown>[] };
    expect(doc.references).toBe(4);
    expect(doc.results.map((r) => r.policy)).toEqual(['lru', 'opt']);
    expect(Object.keys(doc.results[0])).toEqual([
      'policy',
      'frames',
      'references',
      'hits',
      'faults',
      'writes',
      'evictions',
      'hitRate',
      'steps',
    ]);
    const steps = doc.results[0].steps as Record<string, unknown>[];
    expect(steps[2]).toEqual({
      index: 3,
      page: 3,
      write: false,
      hit: false,
      victim: 1,
      written: false,
      frames: [3, 2],
    });
  });

  it('reads the pages a lackey log touches, an access across a page boundary touching both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-policy-'));
    try {
      const log = join(dir, 't.lk');
      const lines = BELADY.split(',').map((p) => ` L ${(Number(p) * 4096).toString(16)},4`);
      writeFileSync(log, ['==1== comment', ...lines, ' S 5ffe,4'].join('\n') + '\n');
      const [r3] = await runPolicy({ log, frames: '3', policy: 'fifo', seed: '1', tick: '8' }, () => {});
      expect(r3.references).toBe(14); // 12 loads, and the store across pages 5 and 6
      // Belady's 9 faults, then page 6: page 5 (resident, and now written) is the oldest and goes, written to disk.
      expect(r3.faults).toBe(10);
      expect(r3.writes).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad input with one line naming what was expected', async () => {
    const bad = async (o: Record<string, string>): Promise<string> => {
      try {
        await runPolicy({ frames: '3', policy: 'all', seed: '1', tick: '8', ...o }, () => {});
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(await bad({ pages: '1,2,zz' })).toMatch(
      /--pages: at line 1: expected a page number .* at column 5, got "zz"/,
    );
    expect(await bad({ pages: ' , ' })).toMatch(/expected at least one page reference/);
    expect(await bad({ pages: '1', frames: '0' })).toMatch(/--frames: expected whole numbers from 1/);
    expect(await bad({ pages: '1', policy: 'lfu' })).toMatch(/unknown policy 'lfu'/);
    expect(await bad({ pages: '1', file: 'x' })).toMatch(/one of --pages, --file or --log/);
    expect(await bad({ file: '/nonexistent/refs' })).toMatch(/--file \/nonexistent\/refs: cannot open it \(ENOENT\)/);
  });
});
