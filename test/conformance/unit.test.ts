// The conformance suite's own parts, without QEMU: the generator is seeded and
// only makes valid cases, the staleness rule refuses what it must, the batch
// encoding and the output parser agree, and the parser rejects bad bytes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/errors.js';
import { PDE_PS, PTE_G, PTE_P, PTE_RW, PTE_US } from '../../src/hw/paging.js';
import {
  BATCH_MAGIC,
  CPUID_PSE36,
  DATA_BASE,
  LARGE_BASE,
  TABLE_BASE,
  accessCount,
  encodeBatch,
  fillFrames,
  reportAddrs,
  type AccessOp,
  type Case,
  type CaseOutcome,
} from './case.js';
import { generateCase, generateCases } from './generate.js';
import { runOnModel } from './model.js';
import { namedCases } from './named.js';
import { KernelFatal, OUT_CASE, OUT_CPUID, OUT_DONE, parseResults } from './results.js';
import { validateCase } from './shadow.js';

const QEMU32_EDX = 0x0781abfd; // CPUID.01H:EDX of QEMU 7.2's default qemu32 (no PSE-36)

const PD = TABLE_BASE;
const PT = TABLE_BASE + 0x1000;
const URW = PTE_P | PTE_RW | PTE_US;
const LIN = 0x04005100;

/** tiny is a one-page case with the given ops. */
function tiny(ops: Case['ops'], pge = false, pteFlags = URW): Case {
  return {
    name: 'tiny',
    wp: false,
    pse: false,
    pge,
    cr3: PD,
    salt: 1,
    tables: [PD, PT],
    entries: [
      [PD + 0x40, PT | URW],
      [PT + 0x14, DATA_BASE | pteFlags],
    ],
    ops,
  };
}

/** outputFor renders outcomes as the test kernel writes them. */
function outputFor(cases: readonly Case[], outs: readonly CaseOutcome[], edx = QEMU32_EDX | CPUID_PSE36): Uint8Array {
  const words: number[] = [OUT_CPUID, edx];
  outs.forEach((o, i) => {
    words.push(OUT_CASE, i);
    for (const a of o.accesses) words.push(a.fault ? 1 : 0, a.fault ? a.cr2 : a.value, a.fault ? a.code : 0);
    words.push(...o.entries);
  });
  words.push(OUT_DONE);
  const out = new Uint8Array(words.length * 4);
  words.forEach((w, i) => new DataView(out.buffer).setUint32(i * 4, w >>> 0, true));
  expect(cases.length).toBe(outs.length);
  return out;
}

describe('generator', () => {
  it('reproduces a case from its seed and index alone', () => {
    expect(generateCase(42, 17)).toEqual(generateCases(42, 18)[17]);
    expect(generateCase(42, 17)).not.toEqual(generateCase(43, 17));
  });

  it('makes only valid cases, mixing the features the issue names', () => {
    const cases = generateCases(9, 1000);
    for (const c of cases) validateCase(c);
    const ops = cases.flatMap((c) => c.ops);
    const accesses = ops.filter((o) => o.op === 'access');
    expect(accesses.some((a) => (a.lin & 0xfff) + a.size > 4096)).toBe(true);
    expect(cases.some((c) => c.pse && c.entries.some(([a, v]) => a < PD + 0x1000 * 64 && (v & PDE_PS) !== 0))).toBe(
      true,
    );
    for (const kind of ['edit', 'invlpg', 'reload-cr3', 'set-wp', 'load-cr3', 'set-cr4'])
      expect(ops.some((o) => o.op === kind)).toBe(true);
    expect(accesses.some((a) => a.kind === 2 && a.size === 4)).toBe(true);
    expect(accesses.some((a) => a.discard === true)).toBe(true);
    for (const cpl of [0, 3]) expect(accesses.some((a) => a.cpl === cpl)).toBe(true);
    expect(cases.filter((c) => c.wp).length).toBeGreaterThan(300);
  });

  it('names cases that all pass validation', () => {
    const named = namedCases();
    for (const c of named) validateCase(c);
    expect(new Set(named.map((c) => c.name)).size).toBe(named.length);
  });
});

describe('staleness rule (SDM 4.10.4.2)', () => {
  const edit = { op: 'edit', addr: PT + 0x14, value: DATA_BASE | URW | 0x1000 } as const;
  const read = { op: 'access', kind: 0, size: 4, cpl: 0, lin: LIN, value: 0 } as const;

  it('refuses an access after an edit without invalidation', () => {
    expect(() => validateCase(tiny([read, edit, read]))).toThrow(/stale TLB entry/);
  });

  it('accepts it after INVLPG of the page or a CR3 reload', () => {
    expect(() => validateCase(tiny([read, edit, { op: 'invlpg', lin: LIN + 0xabc }, read]))).not.toThrow();
    expect(() => validateCase(tiny([read, edit, { op: 'reload-cr3' }, read]))).not.toThrow();
  });

  it('does not count a CR3 reload for a global page with CR4.PGE', () => {
    expect(() => validateCase(tiny([read, edit, { op: 'reload-cr3' }, read], true, URW | PTE_G))).toThrow(/stale/);
    expect(() => validateCase(tiny([read, edit, { op: 'invlpg', lin: LIN }, read], true, URW | PTE_G))).not.toThrow();
  });

  it('counts a switch of CR3 only for non-global pages with CR4.PGE', () => {
    const PD2 = PD + 0x2000;
    const two = (ops: Case['ops'], pge: boolean): Case => ({
      ...tiny(ops, pge, URW | PTE_G),
      tables: [PD, PT, PD2],
      directories: [PD2],
      entries: [...tiny([], pge, URW | PTE_G).entries, [PD2 + 0x40, PT | URW]],
    });
    const ops: Case['ops'] = [read, { op: 'load-cr3', cr3: PD2 }, read];
    expect(() => validateCase(two(ops, false))).not.toThrow();
    expect(() => validateCase(two(ops, true))).toThrow(/stale/);
    expect(() => validateCase(two([read, { op: 'load-cr3', cr3: PD + 0x1000 }], false))).toThrow(
      /not one of the case's directories/,
    );
  });

  it('counts a change of CR4.PGE as a flush of global entries, a change of PSE alone as none (SDM 4.10.4.1)', () => {
    const edit = { op: 'edit', addr: PT + 0x14, value: DATA_BASE | URW | PTE_G | 0x1000 } as const;
    const read = { op: 'access', kind: 0, size: 4, cpl: 0, lin: LIN, value: 0 } as const;
    expect(() =>
      validateCase(tiny([read, edit, { op: 'set-cr4', pse: false, pge: false }, read], true, URW | PTE_G)),
    ).not.toThrow();
    const large: Case = { ...tiny([]), pse: true, entries: [[PD + 0x40, PT | URW | PDE_PS]] };
    const viaTable: AccessOp = { op: 'access', kind: 0, size: 4, cpl: 0, lin: 0x04000100, value: 0 };
    const toTable = { ...large, entries: [...large.entries, [PT, DATA_BASE | URW] as const] };
    expect(() => validateCase({ ...toTable, ops: [{ op: 'set-cr4', pse: false, pge: false }, viaTable] })).toThrow(
      /stale/,
    );
    expect(() =>
      validateCase({ ...toTable, ops: [{ op: 'set-cr4', pse: false, pge: false }, { op: 'reload-cr3' }, viaTable] }),
    ).not.toThrow();
  });

  it('accepts straddling fetches at 0xffd-0xfff only, and not over code bytes a write changed', () => {
    const two = (ops: Case['ops']): Case => ({
      ...tiny(ops),
      entries: [...tiny([]).entries, [PT + 0x18, (DATA_BASE + 0x1000) | URW]],
    });
    const fetch = (off: number, size: 1 | 4): AccessOp => ({
      op: 'access',
      kind: 2,
      size,
      cpl: 3,
      lin: 0x04005000 + off,
      value: 0,
    });
    expect(() => validateCase(two([fetch(0xffd, 4), fetch(0xfff, 4)]))).not.toThrow();
    expect(() => validateCase(two([fetch(0xffc, 4)]))).toThrow(/4 bytes at 0xffd-0xfff/);
    expect(() => validateCase(two([fetch(0xfff, 1)]))).toThrow(/must be 1 byte/);
    const overwrite: AccessOp = { op: 'access', kind: 1, size: 2, cpl: 0, lin: 0x04006000, value: 0 };
    expect(() => validateCase(two([overwrite, fetch(0xffe, 4)]))).toThrow(/code bytes a write changed/);
    expect(fillFrames(two([fetch(0xffe, 4)]))).toEqual([DATA_BASE, DATA_BASE + 0x1000]);
  });

  it('makes a read above 4 GiB (PSE-36) discard its value, and refuses pages above 2^36', () => {
    const pse36 = (bits: number, op: AccessOp): Case => ({
      ...tiny([op]),
      pse: true,
      entries: [[PD + 0x40, LARGE_BASE | bits | URW | PDE_PS]],
    });
    const read: AccessOp = { op: 'access', kind: 0, size: 4, cpl: 3, lin: 0x04000100, value: 0 };
    expect(() => validateCase(pse36(1 << 13, read))).toThrow(/must discard its value/);
    expect(() => validateCase(pse36(1 << 13, { ...read, discard: true }))).not.toThrow();
    expect(() => validateCase(pse36(1 << 13, { ...read, kind: 1 }))).not.toThrow();
    expect(() => validateCase(pse36(1 << 17, { ...read, discard: true }))).toThrow(/bits 20:17 are reserved/);
    expect(() => validateCase(pse36(1 << 13, { ...read, kind: 1, discard: true }))).toThrow(/only a read may discard/);
    expect(runOnModel(pse36(1 << 13, { ...read, discard: true })).accesses).toEqual([{ fault: false, value: 0 }]);
  });

  it('refuses reads of table frames the case does not zero', () => {
    const c: Case = {
      ...tiny([]),
      entries: [
        [PD + 0x40, PT | URW],
        [PT + 0x14, (TABLE_BASE + 0x9000) | URW],
      ],
    };
    expect(() => validateCase({ ...c, ops: [{ op: 'access', kind: 0, size: 4, cpl: 0, lin: LIN, value: 0 }] })).toThrow(
      /does not zero/,
    );
  });

  it('refuses writes over the RET bytes and accesses in the kernel PDEs', () => {
    expect(() => validateCase(tiny([{ op: 'access', kind: 1, size: 4, cpl: 0, lin: 0x040057fe, value: 0 }]))).toThrow(
      /RET bytes/,
    );
    expect(() => validateCase(tiny([{ op: 'access', kind: 0, size: 4, cpl: 0, lin: 0x1000, value: 0 }]))).toThrow(
      /linear range/,
    );
  });
});

describe('batch encoding and QEMU output', () => {
  it('encodes the header, and fills only the data frames a case can reach', () => {
    const c = tiny([{ op: 'access', kind: 0, size: 4, cpl: 3, lin: LIN, value: 0 }]);
    const words = new Uint32Array(encodeBatch([c]).buffer);
    expect([...words.slice(0, 5)]).toEqual([BATCH_MAGIC, 1, 0, PD, 1]);
    expect(fillFrames(c)).toEqual([DATA_BASE]);
    expect(reportAddrs(c)).toEqual([PD + 0x40, PT + 0x14]);
  });

  it('parses what the kernel writes back into the same outcomes', () => {
    const cases = generateCases(5, 20);
    const outs = cases.map((c) => runOnModel(c));
    expect(parseResults(outputFor(cases, outs), cases)).toEqual(outs);
  });

  it('names the offset of a truncated or corrupt output', () => {
    const cases = generateCases(5, 3);
    const bytes = outputFor(
      cases,
      cases.map((c) => runOnModel(c)),
    );
    expect(() => parseResults(bytes.slice(0, bytes.length - 4), cases)).toThrow(ParseError);
    const bad = bytes.slice();
    bad[16] = 7;
    expect(() => parseResults(bad, cases)).toThrow(/access status 0 or 1/);
  });

  it('refuses the output of a CPU without PSE-36 (bits 16:13 of a 4 MiB PDE would be reserved, SDM 4.3)', () => {
    const cases = generateCases(5, 2);
    const outs = cases.map((c) => runOnModel(c));
    expect(() => parseResults(outputFor(cases, outs, QEMU32_EDX), cases)).toThrow(
      /PSE-36 \(bit 17\) set: run QEMU with -cpu qemu32,\+pse36/,
    );
  });

  it('reports a kernel fatal record as KernelFatal', () => {
    const cases = generateCases(5, 1);
    const words = [OUT_CPUID, QEMU32_EDX | CPUID_PSE36, OUT_CASE, 0, 0x4c415446, 13, 0, 0x100123, 0, 0];
    const bytes = new Uint8Array(new Uint32Array(words).buffer);
    expect(() => parseResults(bytes, cases)).toThrow(KernelFatal);
  });

  it('throws nothing but its own errors on arbitrary bytes (fuzz)', () => {
    const cases = generateCases(11, 2);
    expect(accessCount(cases[0])).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        try {
          parseResults(bytes, cases);
        } catch (e) {
          if (!(e instanceof ParseError) && !(e instanceof KernelFatal)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
