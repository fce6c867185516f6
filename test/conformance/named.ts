// Named cases: one or more for each rule of the SDM's paging chapter (Vol. 3A
// ch. 4, 32-bit paging) the machine implements, and the flag matrix of
// kvm-unit-tests' x86/access.c: every PDE flag set against every PTE flag set,
// each access kind, CPL, CR0.WP and CR4.PSE setting.
//
// Not compared with QEMU, each with its SDM section:
// - survival of global entries across a CR3 reload: QEMU has no PGE (4.10.2.4); test/hw covers it;
// - use of a stale TLB entry after an edit without invalidation: allowed either way (4.10.4.2);
// - INVLPG of one 4 KiB piece dropping the rest of a 4 MiB page: done by both, but cases only touch the invalidated page (4.10.4.1);
// - PSE-36 address bits 20:13 of a 4 MiB PDE above MAXPHYADDR: reserved per 4.3 Table 4-5, QEMU ignores them; never generated;
// - P in the error code of a reserved-bit fault: QEMU leaves it 0 against 4.7; excused (compare.ts), checked by sdm.test.ts.

import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../src/hw/fault.js';
import {
  PDE_LARGE_RSVD_BIT21, PDE_PAT_LARGE, PDE_PS, PTE_A, PTE_D, PTE_G, PTE_P, PTE_PAT, PTE_PCD, PTE_PWT, PTE_RW, PTE_US,
} from '../../src/hw/paging.js';
import {
  DATA_BASE, FETCH_OFFSET, KERNEL_PDES, LARGE_BASE, TABLE_BASE,
  type AccessOp, type Case, type Cpl, type Op, type Size,
} from './case.js';

const PD = TABLE_BASE;
const PT = TABLE_BASE + 0x1000;
const PT2 = TABLE_BASE + 0x2000;
const PT_BIT21 = 0x600000; // a table whose address has bit 21 set
const PD2 = TABLE_BASE + 0x3000; // a second directory for CR3 switches
const K = 0x10; // the PDE most named cases use
const P = PTE_P;
const RW = PTE_RW;
const US = PTE_US;
const URW = P | RW | US;

const frame = (i: number): number => DATA_BASE + i * 4096;
const big = (i: number): number => LARGE_BASE + i * 0x400000;
const at = (k: number, j: number, off = 0x100): number => ((k << 22) | (j << 12) | off) >>> 0;
const pde = (k: number, v: number): [number, number] => [PD + k * 4, v >>> 0];
const pte = (j: number, v: number, pt = PT): [number, number] => [pt + j * 4, v >>> 0];

// access builds one access op; rd, wr and fx are its shorthands (fetches hit the RET bytes).
function access(kind: AccessKind, lin: number, cpl: Cpl, size: Size, value = 0): AccessOp {
  return { op: 'access', kind, size, cpl, lin: lin >>> 0, value: value >>> 0 };
}
const rd = (lin: number, cpl: Cpl = 0, size: Size = 4): AccessOp => access(ACCESS_READ, lin, cpl, size);
const wr = (lin: number, value: number, cpl: Cpl = 0, size: Size = 4): AccessOp => access(ACCESS_WRITE, lin, cpl, size, value);
const fx = (lin: number, cpl: Cpl = 0): AccessOp => access(ACCESS_FETCH, ((lin & ~0xfff) | FETCH_OFFSET) >>> 0, cpl, 1);
const edit = (e: [number, number]): Op => ({ op: 'edit', addr: e[0], value: e[1] });
const invlpg = (lin: number): Op => ({ op: 'invlpg', lin: lin >>> 0 });
const reload: Op = { op: 'reload-cr3' };

/** CR0.WP, CR4.PSE and CR4.PGE of a named case (all off by default). */
interface Mode { readonly wp?: boolean; readonly pse?: boolean; readonly pge?: boolean }

// nameSalt is a fixed salt derived from the case name.
function nameSalt(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// named builds a case with the named cases' tables: PD (CR3), PT, PT2, PT_BIT21 and PD2.
function named(name: string, sdm: string, mode: Mode, entries: Array<[number, number]>, ops: Op[]): Case {
  return {
    name, sdm, wp: mode.wp ?? false, pse: mode.pse ?? false, pge: mode.pge ?? false,
    cr3: PD, salt: nameSalt(name), tables: [PD, PT, PT2, PT_BIT21, PD2], directories: [PD2], entries, ops,
  };
}

const pde2 = (k: number, v: number): [number, number] => [PD2 + k * 4, v >>> 0];
const load = (cr3: number): Op => ({ op: 'load-cr3', cr3 });

// basic is the usual shape: PDE K -> PT, PTE j -> frame(0).
function basic(pdeFlags: number, pteFlags: number, j = 5): Array<[number, number]> {
  return [pde(K, PT | pdeFlags), pte(j, frame(0) | pteFlags)];
}

// ruleCases are the hand-written cases, one rule each.
function ruleCases(): Case[] {
  const p = at(K, 5);
  return [
    named('pde-not-present', '4.3 Table 4-4, 4.7', {}, [pde(K, PT | RW | US), pte(5, frame(0) | URW)], [rd(p), wr(p, 1, 3), fx(p)]),
    named('pte-not-present', '4.3 Table 4-6, 4.7', {}, basic(URW, RW | US), [rd(p), wr(p, 1, 3), fx(p, 3)]),
    named('pde-accessed-on-pte-fault', '4.8 (QEMU order: PDE.A set during the descent)', {}, basic(URW, 0), [rd(p, 3)]),
    named('reserved-bits-unchecked-when-not-present', '4.7', { pse: true }, [pde(K, big(0) | PDE_PS | PDE_LARGE_RSVD_BIT21 | RW)], [rd(at(K, 0))]),
    named('user-read-supervisor-pte', '4.6.1', {}, basic(URW, P | RW), [rd(p, 3), rd(p, 0)]),
    named('user-read-supervisor-pde', '4.6.1', {}, basic(P | RW, URW), [rd(p, 3), wr(p, 7, 3), rd(p, 0)]),
    named('user-write-readonly-pte', '4.6.1', {}, basic(URW, P | US), [wr(p, 9, 3), rd(p, 3)]),
    named('user-write-readonly-pde', '4.6.1', {}, basic(P | US, URW), [wr(p, 9, 3), rd(p, 3)]),
    named('user-write-allowed', '4.6.1', {}, basic(URW, URW), [wr(p, 0x12345678, 3), rd(p, 3)]),
    named('supervisor-write-readonly-wp0', '4.6.1', { wp: false }, basic(P | US, P | US), [wr(p, 0xcafe, 0, 2), rd(p)]),
    named('supervisor-write-readonly-wp1', '4.6.1', { wp: true }, basic(URW, P | US), [wr(p, 0xcafe, 0, 2), rd(p)]),
    named('supervisor-write-readonly-pde-wp1', '4.6.1', { wp: true }, basic(P | US, URW), [wr(p, 0xcafe)]),
    named('supervisor-write-supervisor-readonly-wp1', '4.6.1', { wp: true }, basic(P | RW, P), [wr(p, 1, 0, 1)]),
    named('supervisor-reads-user-page', '4.6.1 (no SMAP)', {}, basic(URW, P | US), [rd(p), rd(p, 0, 1)]),
    named('fetch-readonly-page', '4.6.1 (no NX with 32-bit paging)', {}, basic(URW, P | US), [fx(p, 3), fx(p, 0)]),
    named('user-fetch-supervisor-page', '4.6.1, 4.7 (I/D stays 0)', {}, basic(URW, P | RW), [fx(p, 3)]),
    named('supervisor-fetch-user-page', '4.6.1 (no SMEP)', {}, basic(URW, URW), [fx(p, 0)]),
    named('fetch-not-present', '4.7 (I/D stays 0)', {}, basic(URW, RW | US), [fx(p, 0), fx(p, 3)]),
    named('accessed-on-read', '4.8', {}, basic(URW, URW), [rd(p, 3)]),
    named('accessed-on-fetch', '4.8', {}, basic(URW, URW), [fx(p, 3)]),
    named('dirty-on-write', '4.8', {}, basic(URW, URW), [wr(p, 5, 3)]),
    named('dirty-on-write-after-read', '4.8', {}, basic(URW, URW), [rd(p), rd(p, 3), wr(p, 0xabcdef01, 3), rd(p)]),
    named('no-flags-on-protection-fault', '4.8', { wp: true }, basic(P | US, P | US), [wr(p, 5, 3), wr(p, 5, 0)]),
    named('no-dirty-on-faulting-write-after-read', '4.8', {}, basic(URW, P | US), [rd(p, 3), wr(p, 5, 3)]),
    named('pde-dirty-bit-ignored', '4.3 Table 4-5 (bit 6 ignored in a PDE that references a table)', {}, basic(URW, URW), [wr(p, 3)]),
    named('avl-pat-pwt-pcd-ignored', '4.3 Tables 4-5, 4-6; 4.9', {}, [pde(K, PT | URW | PTE_PWT | PTE_PCD | 0xe00), pte(5, frame(0) | URW | PTE_PAT | PTE_PWT | PTE_PCD | 0xe00)], [rd(p, 3), wr(p, 1, 3)]),
    named('global-bit-without-pge', '4.10.2.4', { pge: false }, basic(URW, URW | PTE_G), [rd(p, 3), wr(p, 2, 3), reload, rd(p, 3)]),
    named('large-page-read', '4.3 Table 4-5', { pse: true }, [pde(K, big(1) | PDE_PS | URW)], [rd(at(K, 0x2ab, 0x123), 3), rd(at(K, 0x3ff, 0xffc), 0)]),
    named('large-page-dirty-in-pde', '4.8', { pse: true }, [pde(K, big(1) | PDE_PS | URW)], [wr(at(K, 0x100), 0x55, 3, 1)]),
    named('large-page-user-readonly', '4.6.1', { pse: true, wp: true }, [pde(K, big(1) | PDE_PS | P | US)], [rd(at(K, 7), 3), wr(at(K, 7), 1, 3), wr(at(K, 7), 1, 0)]),
    named('large-page-reserved-bit21', '4.3 Table 4-5, 4.7', { pse: true }, [pde(K, big(1) | PDE_PS | URW | PDE_LARGE_RSVD_BIT21)], [rd(at(K, 1), 3), wr(at(K, 1), 1, 0), fx(at(K, 1), 0)]),
    named('large-page-pat-bit12-ignored', '4.3 Table 4-5', { pse: true }, [pde(K, big(1) | PDE_PS | URW | PDE_PAT_LARGE)], [rd(at(K, 3), 3)]),
    named('pse-off-ps-ignored', '4.3 (PS used only with CR4.PSE=1)', { pse: false }, [pde(K, PT | PDE_PS | URW), pte(5, frame(0) | URW)], [rd(p, 3), wr(p, 8, 3)]),
    named('pse-off-bit21-is-address', '4.3', { pse: false }, [pde(K, PT_BIT21 | PDE_PS | URW), pte(5, frame(0) | URW, PT_BIT21)], [rd(p, 3)]),
    named('pse-on-ps-clear-uses-table', '4.3', { pse: true }, basic(URW, URW), [rd(p, 3)]),
    named('invlpg-after-remap', '4.10.4.1', {}, basic(URW, URW), [rd(p), edit(pte(5, frame(1) | URW)), invlpg(p), rd(p)]),
    named('cr3-reload-after-remap', '4.10.4.1', {}, basic(URW, URW), [rd(p), edit(pte(5, frame(1) | URW)), reload, rd(p)]),
    named('invlpg-after-unmap', '4.10.4.1', {}, basic(URW, URW), [rd(p, 3), edit(pte(5, 0)), invlpg(p), rd(p, 3)]),
    named('invlpg-after-downgrade', '4.10.4.1', {}, basic(URW, URW), [wr(p, 1, 3), edit(pte(5, frame(0) | P | US)), invlpg(p), wr(p, 2, 3), rd(p, 3)]),
    named('invlpg-after-clearing-dirty', '4.8, 4.10.4.1', {}, basic(URW, URW), [wr(p, 1), edit(pte(5, frame(0) | URW | PTE_A)), invlpg(p), wr(p, 2)]),
    named('invlpg-large-page-remap', '4.10.2.3, 4.10.4.1', { pse: true }, [pde(K, big(0) | PDE_PS | URW)], [rd(at(K, 9)), edit(pde(K, big(2) | PDE_PS | URW)), invlpg(at(K, 9, 0xfff)), rd(at(K, 9))]),
    named('large-to-small-via-cr3', '4.10.4.1', { pse: true }, [pde(K, big(0) | PDE_PS | URW), pte(5, frame(2) | URW)], [rd(p), edit(pde(K, PT | URW)), reload, rd(p), rd(at(K, 6))]),
    named('straddle-read', '4.3 (each page translated)', {}, [pde(K, PT | URW), pte(5, frame(0) | URW), pte(6, frame(1) | URW)], [rd(at(K, 5, 0xffe), 3), rd(at(K, 5, 0xfff), 0, 2)]),
    named('straddle-second-not-present', '4.7 (CR2: QEMU reports the second page)', {}, [pde(K, PT | URW), pte(5, frame(0) | URW)], [rd(at(K, 5, 0xffd), 3)]),
    named('straddle-first-not-present', '4.7', {}, [pde(K, PT | URW), pte(6, frame(1) | URW)], [rd(at(K, 5, 0xffd), 3)]),
    named('straddle-write-second-readonly', '4.6.1 (nothing written)', {}, [pde(K, PT | URW), pte(5, frame(0) | URW), pte(6, frame(1) | P | US)], [wr(at(K, 5, 0xffe), 0x11223344, 3), rd(at(K, 5, 0xffc), 3), rd(at(K, 6, 0), 3)]),
    named('straddle-4mib-boundary', '4.3', { pse: true }, [pde(K, PT | URW), pte(1023, frame(0) | URW), pde(K + 1, big(1) | PDE_PS | URW)], [wr(at(K, 1023, 0xffe), 0xa1b2c3d4, 3), rd(at(K, 1023, 0xffd), 3)]),
    named('lowest-case-pde', '4.3', {}, [pde(KERNEL_PDES, PT | URW), pte(0, frame(0) | URW)], [rd(at(KERNEL_PDES, 0, 0), 3)]),
    named('alias-two-pages-one-frame', '4.3', {}, [pde(K, PT | URW), pte(5, frame(3) | URW), pte(900, frame(3) | URW)], [wr(at(K, 5, 0x40), 0x600df00d, 3), rd(at(K, 900, 0x40), 3)]),
    named('two-pdes-share-a-table', '4.3', {}, [pde(K, PT | URW), pde(K + 7, PT | P | US), pte(5, frame(0) | URW)], [wr(at(K + 7, 5), 1, 3), wr(at(K, 5), 1, 3), rd(at(K + 7, 5), 3)]),
    named('recursive-directory', '4.3 (the directory used as a page table)', {}, [pde(K, PT | URW), pte(5, frame(0) | URW), pde(K + 1, PD | P | US)], [rd(at(K, 5), 3), rd(at(K + 1, K, 5 * 4), 3), rd(at(K + 1, K + 1, K * 4), 3)]),
    named('wp-toggle', '4.6.1', { wp: true }, basic(URW, P | US), [wr(p, 1), { op: 'set-wp', on: false }, wr(p, 2), { op: 'set-wp', on: true }, wr(p, 3), rd(p)]),
    named('last-pde-last-pte', '4.3', {}, [pde(1023, PT2 | URW), pte(1023, frame(4) | URW, PT2)], [wr(0xfffff004, 0x77, 3, 1), rd(0xfffffffc, 3), fx(0xfffff000, 3)]),
    named('cr3-switch', '4.10.4.1', {}, [pde(K, PT | URW), pte(5, frame(0) | URW), pde2(K, PT2 | URW), pte(5, frame(1) | URW, PT2)], [rd(p, 3), load(PD2), rd(p, 3), wr(p, 9, 3), load(PD), rd(p, 3)]),
    named('cr3-switch-shared-table', '4.10.4.1', {}, [pde(K, PT | P | US), pde2(K + 3, PT | URW), pte(5, frame(0) | URW)], [wr(p, 1, 3), load(PD2), wr(at(K + 3, 5), 2, 3), load(PD), rd(p, 3)]),
    named('cr3-switch-to-unmapped', '4.10.4.1', { pse: true }, [pde(K, big(0) | PDE_PS | URW)], [rd(p, 3), load(PD2), rd(p, 3), load(PD), rd(p, 0)]),
    named('global-page-not-relied-on', '4.10.2.4 (only INVLPG counts for a global page)', { pge: true }, [pde(K, PT | URW), pte(5, frame(0) | URW | PTE_G), pde2(K, PT | URW)], [rd(p, 3), load(PD2), invlpg(p), rd(p, 3), edit(pte(5, frame(2) | URW | PTE_G)), invlpg(p), rd(p, 3)]),
    named('accessed-already-set', '4.8', {}, basic(URW | PTE_A, URW | PTE_A | PTE_D), [rd(p, 3), wr(p, 4, 3)]),
  ];
}

const PDE_MATRIX_FLAGS = [RW, US, PTE_A];
const PTE_MATRIX_FLAGS = [P, RW, US, PTE_A, PTE_D];
const LARGE_MATRIX_FLAGS = [RW, US, PTE_A, PTE_D, PDE_LARGE_RSVD_BIT21];
const ACCESSES: ReadonlyArray<readonly [AccessKind, Cpl]> = [
  [ACCESS_READ, 0], [ACCESS_READ, 3], [ACCESS_WRITE, 0], [ACCESS_WRITE, 3], [ACCESS_FETCH, 0], [ACCESS_FETCH, 3],
];

// subsets lists every OR of a subset of the flags.
function subsets(flags: readonly number[]): number[] {
  return Array.from({ length: 1 << flags.length }, (_, m) => flags.reduce((v, f, i) => (m & (1 << i) ? v | f : v), 0));
}

// matrixAccess is the access of one (kind, CPL) pair on the page at `lin`.
function matrixAccess(kind: AccessKind, cpl: Cpl, lin: number, n: number): AccessOp {
  return kind === ACCESS_FETCH ? fx(lin, cpl) : kind === ACCESS_WRITE ? wr(lin, 0x01010101 * (n & 0xff), cpl) : rd(lin, cpl);
}

// smallMatrix: one case per PDE flag set, CR0.WP and PS/PSE mode; in it, a PTE per
// (PTE flag set, access kind, CPL), each accessed once.
function smallMatrix(): Case[] {
  const out: Case[] = [];
  const pdeSets = [0, ...subsets(PDE_MATRIX_FLAGS).map((f) => f | P)];
  const modes = [{ pse: false, ps: 0 }, { pse: false, ps: PDE_PS }, { pse: true, ps: 0 }];
  for (const wp of [false, true]) {
    for (const mode of modes) {
      for (const pdeFlags of pdeSets) {
        const entries: Array<[number, number]> = [pde(K, PT | pdeFlags | mode.ps)];
        const ops: Op[] = [];
        subsets(PTE_MATRIX_FLAGS).forEach((pteFlags, i) => {
          ACCESSES.forEach(([kind, cpl], a) => {
            const j = i * ACCESSES.length + a;
            entries.push(pte(j, frame(j % 8) | pteFlags));
            ops.push(matrixAccess(kind, cpl, at(K, j), j));
          });
        });
        const name = `matrix:4k:wp=${+wp}:pse=${+mode.pse}:ps=${mode.ps ? 1 : 0}:pde=${pdeFlags.toString(16)}`;
        out.push(named(name, '4.6.1, 4.7, 4.8 (access.c matrix)', { wp, pse: mode.pse }, entries, ops));
      }
    }
  }
  return out;
}

// largeMatrix: per CR0.WP, a 4 MiB PDE per (PDE flag set, access kind, CPL).
function largeMatrix(): Case[] {
  return [false, true].map((wp) => {
    const entries: Array<[number, number]> = [];
    const ops: Op[] = [];
    const sets = [0, ...subsets(LARGE_MATRIX_FLAGS).map((f) => f | P)];
    sets.forEach((flags, i) => {
      ACCESSES.forEach(([kind, cpl], a) => {
        const k = KERNEL_PDES + i * ACCESSES.length + a;
        entries.push(pde(k, big(k % 4) | PDE_PS | flags));
        ops.push(matrixAccess(kind, cpl, at(k, 0x155), k));
      });
    });
    return named(`matrix:4m:wp=${+wp}`, '4.6.1, 4.7, 4.8 (access.c matrix)', { wp, pse: true }, entries, ops);
  });
}

// namedCases is every named case: the rules, then the matrices.
export function namedCases(): Case[] {
  return [...ruleCases(), ...smallMatrix(), ...largeMatrix()];
}
