// A random life of two processes (accesses, brk, mmap2, munmap, mprotect, fork, exit) against a model of what
// each byte must read (last written, the file's byte, or zero), on each frame strategy and page-table access;
// the kernel's audit holds at the end and the frames come back exactly. Without fork, page-ins equal the
// distinct pages touched (plus exec's stack pages), counted independently.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCESS_READ, ACCESS_WRITE } from '../../../src/hw/fault.js';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/proc/api.js';
import { DATA, pattern, rig, sampleElf, STACK_TOP } from './helpers.js';

const MAP = 0x40000000;
const RW = PROT_READ | PROT_WRITE;

type Op =
  | { op: 'write'; page: number; off: number; v: number }
  | { op: 'read'; page: number; off: number }
  | { op: 'map'; page: number; n: number }
  | { op: 'unmap'; page: number; n: number }
  | { op: 'fork' }
  | { op: 'switch' }
  | { op: 'exit' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('write' as const),
      page: fc.nat(11),
      off: fc.nat(1023),
      v: fc.nat(0xffffffff),
    }),
  },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('read' as const), page: fc.nat(11), off: fc.nat(1023) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('map' as const), page: fc.nat(11), n: fc.integer({ min: 1, max: 4 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('unmap' as const), page: fc.nat(11), n: fc.integer({ min: 1, max: 4 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'fork' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'switch' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'exit' as const }) },
);

/** Per process: what each word of the MAP window and of .data holds (undefined: unmapped), by address. */
type Model = Map<number, number | undefined>;

describe('process kernel property', () => {
  for (const [frames, ptAccess] of [
    ['bitmap', 'slot'],
    ['buddy', 'recursive'],
    ['list', 'slot'],
  ] as const)
    it(`${frames} frames, ${ptAccess} page tables`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
          const r = rig({ frames, ptAccess, ram: 16 << 20 });
          const elf = sampleElf();
          const data = pattern(0x1800, 2);
          const first = r.pk.exec(elf, ['p'], [], { stackTop: STACK_TOP }).pid;
          const procs = new Map<number, Model>([[first, new Map()]]);
          const modelRead = (m: Model, a: number): number | undefined => {
            if (a >= MAP) return m.has(a) ? m.get(a) : undefined;
            if (m.has(a)) return m.get(a);
            const o = a - (DATA + 0x100);
            return o >= 0 && o + 4 <= data.length ? new DataView(data.buffer).getUint32(o, true) : 0;
          };
          const mapped = (m: Model, a: number): boolean => a < MAP || m.has(a);
          let cur = first;
          r.pk.switchTo(cur);
          for (const o of ops) {
            if (procs.size === 0) break;
            if (!procs.has(cur)) {
              cur = [...procs.keys()][0];
              r.pk.switchTo(cur);
            }
            const m = procs.get(cur)!;
            const addrOf = (page: number, off: number): number =>
              page < 4 ? DATA + 0x1000 + page * 4096 + off * 4 : MAP + (page - 4) * 4096 + off * 4;
            if (o.op === 'write' || o.op === 'read') {
              const a = addrOf(o.page, o.off);
              if (!mapped(m, a)) continue; // a kill is tested elsewhere
              if (o.op === 'write') {
                expect(r.pk.access(cur, a, 4, ACCESS_WRITE, o.v)).toBe(0);
                m.set(a, o.v);
              } else expect(r.pk.access(cur, a, 4, ACCESS_READ)).toBe(modelRead(m, a));
            } else if (o.op === 'map' || o.op === 'unmap') {
              const page = MAP + (o.page % 8) * 4096;
              const res = o.op === 'map' ? r.pk.mmap2(cur, page, o.n * 4096, RW) : r.pk.munmap(cur, page, o.n * 4096);
              expect(res).toBe(o.op === 'map' ? page : 0);
              for (let a = page; a < page + o.n * 4096; a += 4) {
                if (o.op === 'map') m.set(a, 0);
                else m.delete(a);
              }
            } else if (o.op === 'fork') {
              const child = r.pk.fork(cur);
              expect(child).toBeGreaterThan(0);
              procs.set(child, new Map(m));
            } else if (o.op === 'switch') {
              const ids = [...procs.keys()];
              cur = ids[(ids.indexOf(cur) + 1) % ids.length];
              r.pk.switchTo(cur);
            } else {
              r.pk.exit(cur, 0);
              procs.delete(cur);
            }
          }
          expect(r.pk.audit()).toEqual([]);
          for (const pid of [...procs.keys()]) r.pk.exit(pid, 0);
          r.pk.kernelMode();
          expect(r.pk.frames().freeNow).toBe(r.pk.frames().freeBefore);
          expect(r.kernel.vm.audit()).toEqual([]);
          expect(r.kernel.frames.audit()).toEqual([]);
        }),
        { numRuns: 25 },
      );
    });

  it('without fork, page-ins are the distinct pages touched plus the exec stack pages', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(0x2fff), fc.boolean()), { maxLength: 200 }), (touches) => {
        const r = rig();
        const { pid } = r.pk.exec(sampleElf(), ['p'], [], { stackTop: STACK_TOP });
        r.pk.switchTo(pid);
        const stackPages = r.pk.stats(pid).pageIns;
        expect(r.pk.mmap2(pid, MAP, 0x1000 * 0x2000, RW)).toBe(MAP);
        const pages = new Set<number>();
        for (const [i, w] of touches) {
          const a = i < 0x1000 ? DATA + (i % 5) * 4096 : MAP + (i - 0x1000) * 4096;
          if (w) r.pk.access(pid, a, 4, ACCESS_WRITE, i);
          else r.pk.access(pid, a, 4, ACCESS_READ);
          pages.add(a >>> 12);
        }
        expect(r.pk.stats(pid).pageIns).toBe(stackPages + pages.size);
        expect(r.pk.totals().pageFaults).toBe(stackPages + pages.size);
      }),
      { numRuns: 20 },
    );
  });
});
