// Named cases: one or more for each rule of the SDM's paging chapter (Vol. 3A
// ch. 4, 32-bit paging) the machine implements, and the flag matrix of
// kvm-unit-tests' x86/access.c: every PDE flag set against every PTE flag set,
// each access kind, CPL, CR0.WP and CR4.PSE setting.
//
// Not compared with QEMU, each with its SDM section:
// - survival of global entries across a CR3 reload: QEMU has no PGE (4.10.2.4); test/hw covers it;
// - use of a stale TLB entry after an edit without invalidation: allowed either way (4.10.4.2);
// - INVLPG of one 4 KiB piece dropping the rest of a 4 MiB page: done by both, but cases only touch the invalidated
//   page (4.10.4.1);
// - PSE-36 bits 20:17 of a 4 MiB PDE: reserved with QEMU's MAXPHYADDR 36 (4.3), QEMU ignores them; no case maps above
//   2^36;
// - the value read from a physical address without RAM (PSE-36 pages above 4 GiB): platform-defined, not in the SDM
//   (4.3); such reads discard it;
// - a TLB flush by a change of CR4.PSE alone: not architectural (4.10.4.1 names PGE; Vol. 2 MOV CR:
//   implementation-specific); pages under PS=1 PDEs count as stale;
// - P in the error code of a reserved-bit fault: QEMU leaves it 0 against 4.7; the model's 'qemu' setting reproduces
//   it, sdm.test.ts checks both.

import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../src/hw/fault.js';
import {
  PDE_LARGE_RSVD_BIT21,
  PDE_PAT_LARGE,
  PDE_PS,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_PAT,
  PTE_PCD,
  PTE_PWT,
  PTE_RW,
  PTE_US,
} from '../../src/hw/paging.js';
import {
  DATA_BASE,
  FETCH_OFFSET,
  KERNEL_PDES,
  LARGE_BASE,
  TABLE_BASE,
  type AccessOp,
  type Case,
  type Cpl,
  type Op,
  type Size,
} from './case.js';

const PD = TABLE_BASE;
const PT = TABLE_BASE + 0x1000;
const PT2 = TABLE_BASE + 0x2000;
const PT_BIT21 = 0x600000; // a table whose address has bit 21 set
const PD2 = TABLE_BASE + 0x3000; // a second directory for CR3 switches
const PT_PSE36 = 0x41e000; // a table whose address bits 16:13 are set: PSE-36 bits 35:32 when read as a 4 MiB PDE
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

/** access builds one access op; rd, wr and fx are its shorthands (fetches hit the RET bytes). */
function access(kind: AccessKind, lin: number, cpl: Cpl, size: Size, value = 0): AccessOp {
  return { op: 'access', kind, size, cpl, lin: lin >>> 0, value: value >>> 0 };
}
const rd = (lin: number, cpl: Cpl = 0, size: Size = 4): AccessOp => access(ACCESS_READ, lin, cpl, size);
const wr = (lin: number, value: number, cpl: Cpl = 0, size: Size = 4): AccessOp =>
  access(ACCESS_WRITE, lin, cpl, size, value);
const fx = (lin: number, cpl: Cpl = 0): AccessOp => access(ACCESS_FETCH, ((lin & ~0xfff) | FETCH_OFFSET) >>> 0, cpl, 1);
const edit = (e: [number, number]): Op => ({ op: 'edit', addr: e[0], value: e[1] });
const invlpg = (lin: number): Op => ({ op: 'invlpg', lin: lin >>> 0 });
const reload: Op = { op: 'reload-cr3' };
/**
 * A straddling fetch: `mov eax, imm32` at page offset `off` (0xFFD-0xFFF) of `lin`'s page, its immediate and RET in the
 * next page.
 */
const fs = (lin: number, cpl: Cpl = 0, off = 0xffe): AccessOp =>
  access(ACCESS_FETCH, ((lin & ~0xfff) | off) >>> 0, cpl, 4);
/** A read of a page without RAM behind it: runs, faults or not, but its value is not reported. */
const rdx = (lin: number, cpl: Cpl = 0): AccessOp => ({ ...rd(lin, cpl), discard: true });
const cr4 = (pse: boolean, pge: boolean): Op => ({ op: 'set-cr4', pse, pge });
const wp = (on: boolean): Op => ({ op: 'set-wp', on });

/** CR0.WP, CR4.PSE and CR4.PGE of a named case (all off by default). */
interface Mode {
  readonly wp?: boolean;
  readonly pse?: boolean;
  readonly pge?: boolean;
}

/** nameSalt is a fixed salt derived from the case name. */
function nameSalt(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * named builds a case with the named cases' tables: PD (CR3, flag bits as given), PT, PT2, PT_BIT21, PT_PSE36 and PD2.
 */
function named(name: string, sdm: string, mode: Mode, entries: Array<[number, number]>, ops: Op[], cr3Flags = 0): Case {
  return {
    name,
    sdm,
    wp: mode.wp ?? false,
    pse: mode.pse ?? false,
    pge: mode.pge ?? false,
    cr3: PD | cr3Flags,
    salt: nameSalt(name),
    tables: [PD, PT, PT2, PT_BIT21, PT_PSE36, PD2],
    directories: [PD2],
    entries,
    ops,
  };
}

const pde2 = (k: number, v: number): [number, number] => [PD2 + k * 4, v >>> 0];
const load = (cr3: number): Op => ({ op: 'load-cr3', cr3 });

/** basic is the usual shape: PDE K -> PT, PTE j -> frame(0). */
function basic(pdeFlags: number, pteFlags: number, j = 5): Array<[number, number]> {
  return [pde(K, PT | pdeFlags), pte(j, frame(0) | pteFlags)];
}

/** ruleCases are the hand-written cases, one rule each. */
function ruleCases(): Case[] {
  const p = at(K, 5);
  return [
    named(
      'pde-not-present',
      '4.3 Table 4-4, 4.7',
      {},
      [pde(K, PT | RW | US), pte(5, frame(0) | URW)],
      [rd(p), wr(p, 1, 3), fx(p)],
    ),
    named('pte-not-present', '4.3 Table 4-6, 4.7', {}, basic(URW, RW | US), [rd(p), wr(p, 1, 3), fx(p, 3)]),
    named('pde-accessed-on-pte-fault', '4.8 (QEMU order: PDE.A set during the descent)', {}, basic(URW, 0), [rd(p, 3)]),
    named(
      'reserved-bits-unchecked-when-not-present',
      '4.7',
      { pse: true },
      [pde(K, big(0) | PDE_PS | PDE_LARGE_RSVD_BIT21 | RW)],
      [rd(at(K, 0))],
    ),
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
    named(
      'pde-dirty-bit-ignored',
      '4.3 Table 4-5 (bit 6 ignored in a PDE that references a table)',
      {},
      basic(URW, URW),
      [wr(p, 3)],
    ),
    named(
      'avl-pat-pwt-pcd-ignored',
      '4.3 Tables 4-5, 4-6; 4.9',
      {},
      [pde(K, PT | URW | PTE_PWT | PTE_PCD | 0xe00), pte(5, frame(0) | URW | PTE_PAT | PTE_PWT | PTE_PCD | 0xe00)],
      [rd(p, 3), wr(p, 1, 3)],
    ),
    named('global-bit-without-pge', '4.10.2.4', { pge: false }, basic(URW, URW | PTE_G), [
      rd(p, 3),
      wr(p, 2, 3),
      reload,
      rd(p, 3),
    ]),
    named(
      'large-page-read',
      '4.3 Table 4-5',
      { pse: true },
      [pde(K, big(1) | PDE_PS | URW)],
      [rd(at(K, 0x2ab, 0x123), 3), rd(at(K, 0x3ff, 0xffc), 0)],
    ),
    named(
      'large-page-dirty-in-pde',
      '4.8',
      { pse: true },
      [pde(K, big(1) | PDE_PS | URW)],
      [wr(at(K, 0x100), 0x55, 3, 1)],
    ),
    named(
      'large-page-user-readonly',
      '4.6.1',
      { pse: true, wp: true },
      [pde(K, big(1) | PDE_PS | P | US)],
      [rd(at(K, 7), 3), wr(at(K, 7), 1, 3), wr(at(K, 7), 1, 0)],
    ),
    named(
      'large-page-reserved-bit21',
      '4.3 Table 4-5, 4.7',
      { pse: true },
      [pde(K, big(1) | PDE_PS | URW | PDE_LARGE_RSVD_BIT21)],
      [rd(at(K, 1), 3), wr(at(K, 1), 1, 0), fx(at(K, 1), 0)],
    ),
    named(
      'large-page-pat-bit12-ignored',
      '4.3 Table 4-5',
      { pse: true },
      [pde(K, big(1) | PDE_PS | URW | PDE_PAT_LARGE)],
      [rd(at(K, 3), 3)],
    ),
    named(
      'pse-off-ps-ignored',
      '4.3 (PS used only with CR4.PSE=1)',
      { pse: false },
      [pde(K, PT | PDE_PS | URW), pte(5, frame(0) | URW)],
      [rd(p, 3), wr(p, 8, 3)],
    ),
    named(
      'pse-off-bit21-is-address',
      '4.3',
      { pse: false },
      [pde(K, PT_BIT21 | PDE_PS | URW), pte(5, frame(0) | URW, PT_BIT21)],
      [rd(p, 3)],
    ),
    named('pse-on-ps-clear-uses-table', '4.3', { pse: true }, basic(URW, URW), [rd(p, 3)]),
    named('invlpg-after-remap', '4.10.4.1', {}, basic(URW, URW), [
      rd(p),
      edit(pte(5, frame(1) | URW)),
      invlpg(p),
      rd(p),
    ]),
    named('cr3-reload-after-remap', '4.10.4.1', {}, basic(URW, URW), [
      rd(p),
      edit(pte(5, frame(1) | URW)),
      reload,
      rd(p),
    ]),
    named('invlpg-after-unmap', '4.10.4.1', {}, basic(URW, URW), [rd(p, 3), edit(pte(5, 0)), invlpg(p), rd(p, 3)]),
    named('invlpg-after-downgrade', '4.10.4.1', {}, basic(URW, URW), [
      wr(p, 1, 3),
      edit(pte(5, frame(0) | P | US)),
      invlpg(p),
      wr(p, 2, 3),
      rd(p, 3),
    ]),
    named('invlpg-after-clearing-dirty', '4.8, 4.10.4.1', {}, basic(URW, URW), [
      wr(p, 1),
      edit(pte(5, frame(0) | URW | PTE_A)),
      invlpg(p),
      wr(p, 2),
    ]),
    named(
      'invlpg-large-page-remap',
      '4.10.2.3, 4.10.4.1',
      { pse: true },
      [pde(K, big(0) | PDE_PS | URW)],
      [rd(at(K, 9)), edit(pde(K, big(2) | PDE_PS | URW)), invlpg(at(K, 9, 0xfff)), rd(at(K, 9))],
    ),
    named(
      'large-to-small-via-cr3',
      '4.10.4.1',
      { pse: true },
      [pde(K, big(0) | PDE_PS | URW), pte(5, frame(2) | URW)],
      [rd(p), edit(pde(K, PT | URW)), reload, rd(p), rd(at(K, 6))],
    ),
    named(
      'straddle-read',
      '4.3 (each page translated)',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | URW), pte(6, frame(1) | URW)],
      [rd(at(K, 5, 0xffe), 3), rd(at(K, 5, 0xfff), 0, 2)],
    ),
    named(
      'straddle-second-not-present',
      '4.7 (CR2: QEMU reports the second page)',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | URW)],
      [rd(at(K, 5, 0xffd), 3)],
    ),
    named(
      'straddle-first-not-present',
      '4.7',
      {},
      [pde(K, PT | URW), pte(6, frame(1) | URW)],
      [rd(at(K, 5, 0xffd), 3)],
    ),
    named(
      'straddle-write-second-readonly',
      '4.6.1 (nothing written)',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | URW), pte(6, frame(1) | P | US)],
      [wr(at(K, 5, 0xffe), 0x11223344, 3), rd(at(K, 5, 0xffc), 3), rd(at(K, 6, 0), 3)],
    ),
    named(
      'straddle-4mib-boundary',
      '4.3',
      { pse: true },
      [pde(K, PT | URW), pte(1023, frame(0) | URW), pde(K + 1, big(1) | PDE_PS | URW)],
      [wr(at(K, 1023, 0xffe), 0xa1b2c3d4, 3), rd(at(K, 1023, 0xffd), 3)],
    ),
    named(
      'lowest-case-pde',
      '4.3',
      {},
      [pde(KERNEL_PDES, PT | URW), pte(0, frame(0) | URW)],
      [rd(at(KERNEL_PDES, 0, 0), 3)],
    ),
    named(
      'alias-two-pages-one-frame',
      '4.3',
      {},
      [pde(K, PT | URW), pte(5, frame(3) | URW), pte(900, frame(3) | URW)],
      [wr(at(K, 5, 0x40), 0x600df00d, 3), rd(at(K, 900, 0x40), 3)],
    ),
    named(
      'two-pdes-share-a-table',
      '4.3',
      {},
      [pde(K, PT | URW), pde(K + 7, PT | P | US), pte(5, frame(0) | URW)],
      [wr(at(K + 7, 5), 1, 3), wr(at(K, 5), 1, 3), rd(at(K + 7, 5), 3)],
    ),
    named(
      'recursive-directory',
      '4.3 (the directory used as a page table)',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | URW), pde(K + 1, PD | P | US)],
      [rd(at(K, 5), 3), rd(at(K + 1, K, 5 * 4), 3), rd(at(K + 1, K + 1, K * 4), 3)],
    ),
    named('wp-toggle', '4.6.1', { wp: true }, basic(URW, P | US), [
      wr(p, 1),
      { op: 'set-wp', on: false },
      wr(p, 2),
      { op: 'set-wp', on: true },
      wr(p, 3),
      rd(p),
    ]),
    named(
      'last-pde-last-pte',
      '4.3',
      {},
      [pde(1023, PT2 | URW), pte(1023, frame(4) | URW, PT2)],
      [wr(0xfffff004, 0x77, 3, 1), rd(0xfffffffc, 3), fx(0xfffff000, 3)],
    ),
    named(
      'cr3-switch',
      '4.10.4.1',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | URW), pde2(K, PT2 | URW), pte(5, frame(1) | URW, PT2)],
      [rd(p, 3), load(PD2), rd(p, 3), wr(p, 9, 3), load(PD), rd(p, 3)],
    ),
    named(
      'cr3-switch-shared-table',
      '4.10.4.1',
      {},
      [pde(K, PT | P | US), pde2(K + 3, PT | URW), pte(5, frame(0) | URW)],
      [wr(p, 1, 3), load(PD2), wr(at(K + 3, 5), 2, 3), load(PD), rd(p, 3)],
    ),
    named(
      'cr3-switch-to-unmapped',
      '4.10.4.1',
      { pse: true },
      [pde(K, big(0) | PDE_PS | URW)],
      [rd(p, 3), load(PD2), rd(p, 3), load(PD), rd(p, 0)],
    ),
    named(
      'global-page-not-relied-on',
      '4.10.2.4 (only INVLPG counts for a global page)',
      { pge: true },
      [pde(K, PT | URW), pte(5, frame(0) | URW | PTE_G), pde2(K, PT | URW)],
      [rd(p, 3), load(PD2), invlpg(p), rd(p, 3), edit(pte(5, frame(2) | URW | PTE_G)), invlpg(p), rd(p, 3)],
    ),
    named('accessed-already-set', '4.8', {}, basic(URW | PTE_A, URW | PTE_A | PTE_D), [rd(p, 3), wr(p, 4, 3)]),
    ...controlRegisterCases(),
    ...straddleFetchCases(),
    ...pse36Cases(),
    ...moreRuleCases(),
  ];
}

/** controlRegisterCases change CR4.PSE, CR4.PGE and CR0.WP between accesses. */
function controlRegisterCases(): Case[] {
  const p = at(K, 5);
  const dual = pde(K, PT | PDE_PS | URW); // PT's address has bits 21:13 clear: a 4 MiB page at 0x400000 under PSE
  const viaLarge = at(K, 1, 5 * 4); // with PSE, reads PT's entry 5 through the 4 MiB page
  const g = URW | PTE_G;
  return [
    named(
      'pse-toggle-reinterprets-pde',
      '4.3, 4.10.4.1 (PSE change is no flush: CR3 reload)',
      {},
      [dual, pte(5, frame(0) | URW)],
      [
        rd(p, 3),
        cr4(true, false),
        reload,
        rd(viaLarge, 3),
        rd(at(K, 0, K * 4), 0),
        cr4(false, false),
        reload,
        rd(p, 3),
        wr(p, 0x5e5e, 3),
        rd(viaLarge, 3),
      ],
    ),
    named(
      'pse-toggle-then-invlpg',
      '4.3, 4.10.4.1 (INVLPG of the page)',
      { pse: true },
      [dual, pte(5, frame(0) | URW)],
      [rd(viaLarge, 3), cr4(false, false), invlpg(p), rd(p, 3), cr4(true, false), invlpg(viaLarge), rd(viaLarge, 0)],
    ),
    named(
      'pse-on-faults-on-bit21-table',
      '4.3, 4.7 (bit 21 of a table address becomes reserved)',
      {},
      [pde(K, PT_BIT21 | PDE_PS | URW), pte(5, frame(0) | URW, PT_BIT21)],
      [rd(p, 3), cr4(true, false), reload, rd(p, 3), wr(p, 1, 0), cr4(false, false), reload, wr(p, 2, 3)],
    ),
    named(
      'pge-off-flushes-global',
      '4.10.4.1 (a change of PGE flushes global entries)',
      { pge: true },
      basic(URW, frame(0) | g),
      [
        rd(p, 3),
        edit(pte(5, frame(1) | g)),
        cr4(false, false),
        rd(p, 3),
        edit(pte(5, frame(2) | g)),
        cr4(false, true),
        rd(p, 3),
      ],
    ),
    named(
      'pge-off-flushes-global-4mib',
      '4.10.4.1',
      { pse: true, pge: true },
      [pde(K, big(0) | PDE_PS | g)],
      [rd(at(K, 9), 3), edit(pde(K, big(1) | PDE_PS | g)), cr4(true, false), rd(at(K, 9), 3), wr(at(K, 9), 7, 3)],
    ),
    named(
      'pge-off-cr3-reload-flushes-g-pages',
      '4.10.2.4 (G ignored without PGE)',
      { pge: true },
      basic(URW, frame(0) | g),
      [cr4(false, false), rd(p, 3), edit(pte(5, frame(1) | g)), reload, rd(p, 3)],
    ),
    named(
      'pge-and-pse-change-together',
      '4.10.4.1',
      { pse: true },
      [dual, pte(5, frame(0) | URW)],
      [rd(viaLarge, 3), cr4(false, true), rd(p, 3), cr4(true, false), rd(viaLarge, 3)],
    ),
    named('wp-set-after-cached-write', '4.6.1, 4.10.2.2 (TLB holds R/W, WP applies at once)', {}, basic(URW, P | US), [
      wr(p, 1),
      rd(p),
      wp(true),
      wr(p, 2),
      rd(p, 3),
      wp(false),
      wr(p, 3),
      rd(p),
    ]),
    named(
      'wp-toggle-4mib',
      '4.6.1',
      { pse: true },
      [pde(K, big(1) | PDE_PS | P | US)],
      [
        wr(at(K, 3), 1, 0, 2),
        wp(true),
        wr(at(K, 3), 2, 0, 2),
        wr(at(K, 3), 2, 3, 2),
        wp(false),
        wr(at(K, 3), 3, 0, 1),
        rd(at(K, 3), 3),
      ],
    ),
    named('wp-toggle-supervisor-page', '4.6.1 (WP=0: supervisor writes ignore R/W)', { wp: true }, basic(P | RW, P), [
      wr(p, 1),
      wp(false),
      wr(p, 2),
      rd(p),
      wp(true),
      wr(p, 3, 0, 1),
      rd(p, 3),
    ]),
  ];
}

/** straddleFetchCases run an instruction whose bytes cross from one page into the next. */
function straddleFetchCases(): Case[] {
  const a = at(K, 5);
  const b = at(K, 6, 0);
  return [
    named(
      'fetch-straddle-both-present',
      '4.3 (each page translated), 4.8',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | URW), pte(6, frame(1) | URW)],
      [fs(a, 3, 0xffd), fs(a, 0, 0xffe), fs(a, 3, 0xfff)],
    ),
    named(
      'fetch-straddle-second-not-present',
      '4.7 (CR2: the first byte in the second page)',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | URW)],
      [fs(a, 3, 0xffd), fs(a, 0, 0xfff), rd(b, 3)],
    ),
    named(
      'fetch-straddle-first-not-present',
      "4.7 (CR2: the instruction's address)",
      {},
      [pde(K, PT | URW), pte(6, frame(1) | URW)],
      [fs(a, 3), fs(a, 0, 0xfff)],
    ),
    named(
      'fetch-straddle-second-supervisor',
      '4.6.1, 4.7 (P=1, U=1, I/D=0 without NX)',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | URW), pte(6, frame(1) | P | RW)],
      [fs(a, 3), fs(a, 0), fs(a, 3, 0xfff)],
    ),
    named(
      'fetch-straddle-first-supervisor',
      '4.6.1, 4.7',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | P), pte(6, frame(1) | URW)],
      [fs(a, 3), fs(a, 0, 0xffd)],
    ),
    named(
      'fetch-straddle-readonly-executes',
      '4.6.1 (no execute-disable with 32-bit paging)',
      { wp: true },
      [pde(K, PT | P | US), pte(5, frame(0) | P | US), pte(6, frame(1) | P | US)],
      [fs(a, 3), fs(a, 0, 0xffd)],
    ),
    named(
      'fetch-straddle-second-pde-supervisor',
      '4.6.1 (U/S of the PDE)',
      {},
      [pde(K, PT | URW), pte(1023, frame(0) | URW), pde(K + 1, PT2 | P | RW), pte(0, frame(1) | URW, PT2)],
      [fs(at(K, 1023), 3), fs(at(K, 1023), 0)],
    ),
    named(
      'fetch-straddle-into-4mib-page',
      '4.3',
      { pse: true },
      [pde(K, PT | URW), pte(1023, frame(0) | URW), pde(K + 1, big(1) | PDE_PS | URW)],
      [fs(at(K, 1023), 3, 0xfff), fs(at(K + 1, 0x3ff), 3, 0xffd)],
    ),
    named(
      'fetch-straddle-into-unmapped-4mib',
      '4.7',
      { pse: true },
      [pde(K, big(0) | PDE_PS | URW)],
      [fs(at(K, 0x3ff), 3), fs(at(K, 0x3ff), 0, 0xffd)],
    ),
    named(
      'fetch-straddle-second-reserved',
      '4.3 Table 4-4, 4.7 (RSVD)',
      { pse: true },
      [pde(K, PT | URW), pte(1023, frame(0) | URW), pde(K + 1, big(1) | PDE_PS | URW | PDE_LARGE_RSVD_BIT21)],
      [fs(at(K, 1023), 3), fs(at(K, 1023), 0, 0xfff)],
    ),
    named(
      'fetch-straddle-after-remap',
      '4.10.4.1',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | URW), pte(6, frame(1) | URW)],
      [fs(a, 3), edit(pte(6, frame(2) | P | RW)), invlpg(b), fs(a, 3), fs(a, 0)],
    ),
  ];
}

/** pse36Cases: 4 MiB PDEs whose bits 16:13 are physical-address bits 35:32 (QEMU runs with PSE-36, MAXPHYADDR 36). */
function pse36Cases(): Case[] {
  const q = at(K, 3, 0x10);
  const hi = (bits: number, flags: number): [number, number] => pde(K, big(1) | bits | PDE_PS | flags);
  return [
    named(
      'pse36-page-above-4g',
      '4.3 Table 4-4 (bits 16:13: address bits 35:32), 4.8',
      { pse: true },
      [hi(1 << 13, URW)],
      [rdx(q, 3), wr(q, 0x12345678, 3), rdx(q, 0), wr(at(K, 0x3ff, 0xffe), 0xabcd, 0, 2)],
    ),
    named(
      'pse36-bits-16-13-all-set',
      '4.3 Table 4-4',
      { pse: true },
      [hi(0x1e000, URW)],
      [rdx(q, 0), rdx(q, 3), wr(q, 1, 0, 1)],
    ),
    named(
      'pse36-readonly-user',
      '4.6.1',
      { pse: true, wp: true },
      [hi(1 << 14, P | US)],
      [rdx(q, 3), wr(q, 1, 3), wr(q, 1, 0)],
    ),
    named(
      'pse36-supervisor-page',
      '4.6.1, 4.7',
      { pse: true },
      [hi(1 << 15, P | RW)],
      [rdx(q, 3), wr(q, 1, 3), wr(q, 2, 0)],
    ),
    named(
      'pse36-with-bit21-reserved',
      '4.3 Table 4-4, 4.7 (RSVD)',
      { pse: true },
      [hi((1 << 16) | PDE_LARGE_RSVD_BIT21, URW)],
      [rdx(q, 3), wr(q, 1, 0)],
    ),
    named(
      'pse36-not-present',
      '4.7 (no reserved-bit check when P=0)',
      { pse: true },
      [hi(0x1e000 | PDE_LARGE_RSVD_BIT21, RW | US)],
      [rdx(q, 3), wr(q, 1, 0)],
    ),
    named(
      'pse36-straddle-from-ram',
      '4.3 (each page translated)',
      { pse: true },
      [pde(K, PT | URW), pte(1023, frame(0) | URW), pde(K + 1, big(1) | (1 << 13) | PDE_PS | URW)],
      [wr(at(K, 1023, 0xffe), 0x11223344, 3), rd(at(K, 1023, 0xff8), 3)],
    ),
    named(
      'pse36-bits-are-table-address-without-pse',
      '4.3 (PS ignored without CR4.PSE)',
      {},
      [pde(K, PT_PSE36 | PDE_PS | URW), pte(5, frame(0) | URW, PT_PSE36)],
      [
        rd(at(K, 5), 3),
        cr4(true, false),
        reload,
        rdx(at(K, 5), 3),
        wr(at(K, 5), 9, 3),
        cr4(false, false),
        reload,
        rd(at(K, 5), 3),
      ],
    ),
  ];
}

/** moreRuleCases: CR3's ignored bits, G in a PDE, INVLPG without a translation, straddles. */
function moreRuleCases(): Case[] {
  const p = at(K, 5);
  return [
    named(
      'cr3-flag-and-ignored-bits',
      '4.3 Table 4-3 (bits 11:0 of CR3 are no address)',
      {},
      basic(URW, URW),
      [rd(p, 3), wr(p, 1, 3), reload, rd(p)],
      0xfff,
    ),
    named(
      'load-cr3-with-flag-bits',
      '4.3 Table 4-3',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | URW), pde2(K, PT2 | URW), pte(5, frame(1) | URW, PT2)],
      [rd(p, 3), load(PD2 | 0x18), rd(p, 3), load(PD | 0xfe7), rd(p, 3)],
    ),
    named(
      'pde-global-bit-not-global',
      '4.3 Table 4-5 (G ignored in a PDE that references a table), 4.10.2.4',
      { pge: true },
      basic(URW | PTE_G, URW),
      [rd(p, 3), edit(pte(5, frame(1) | URW)), reload, rd(p, 3)],
    ),
    named('invlpg-without-translation', '4.10.4.1 (INVLPG never faults)', {}, basic(URW, URW), [
      invlpg(at(K + 9, 1)),
      invlpg(at(K, 7)),
      rd(p, 3),
    ]),
    named(
      'straddle-write-first-readonly',
      '4.6.1 (nothing written)',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | P | US), pte(6, frame(1) | URW)],
      [wr(at(K, 5, 0xffe), 0x11223344, 3), rd(at(K, 5, 0xffc), 3), rd(at(K, 6, 0), 3)],
    ),
    named(
      'straddle-read-second-supervisor',
      '4.6.1, 4.7 (CR2: the second page)',
      {},
      [pde(K, PT | URW), pte(5, frame(0) | URW), pte(6, frame(1) | P | RW)],
      [rd(at(K, 5, 0xffe), 3), rd(at(K, 5, 0xfff), 0, 2)],
    ),
    named(
      'large-page-dirty-after-read',
      '4.8, 4.10.2.2 (a TLB entry holds D)',
      { pse: true },
      [pde(K, big(2) | PDE_PS | URW)],
      [
        rd(at(K, 4), 3),
        wr(at(K, 4), 6, 3),
        edit(pde(K, big(2) | PDE_PS | URW | PTE_A)),
        invlpg(at(K, 4)),
        rd(at(K, 4), 3),
        wr(at(K, 4), 7, 0),
      ],
    ),
  ];
}

const PDE_MATRIX_FLAGS = [RW, US, PTE_A];
const PTE_MATRIX_FLAGS = [P, RW, US, PTE_A, PTE_D];
const LARGE_MATRIX_FLAGS = [RW, US, PTE_A, PTE_D, PDE_LARGE_RSVD_BIT21];
const ACCESSES: ReadonlyArray<readonly [AccessKind, Cpl]> = [
  [ACCESS_READ, 0],
  [ACCESS_READ, 3],
  [ACCESS_WRITE, 0],
  [ACCESS_WRITE, 3],
  [ACCESS_FETCH, 0],
  [ACCESS_FETCH, 3],
];

/** subsets lists every OR of a subset of the flags. */
function subsets(flags: readonly number[]): number[] {
  return Array.from({ length: 1 << flags.length }, (_, m) => flags.reduce((v, f, i) => (m & (1 << i) ? v | f : v), 0));
}

/** matrixAccess is the access of one (kind, CPL) pair on the page at `lin`. */
function matrixAccess(kind: AccessKind, cpl: Cpl, lin: number, n: number): AccessOp {
  return kind === ACCESS_FETCH
    ? fx(lin, cpl)
    : kind === ACCESS_WRITE
      ? wr(lin, 0x01010101 * (n & 0xff), cpl)
      : rd(lin, cpl);
}

/**
 * smallMatrix: one case per PDE flag set, CR0.WP and PS/PSE mode; in it, a PTE per
 * (PTE flag set, access kind, CPL), each accessed once.
 */
function smallMatrix(): Case[] {
  const out: Case[] = [];
  const pdeSets = [0, ...subsets(PDE_MATRIX_FLAGS).map((f) => f | P)];
  const modes = [
    { pse: false, ps: 0 },
    { pse: false, ps: PDE_PS },
    { pse: true, ps: 0 },
  ];
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

/** largeMatrix: per CR0.WP, a 4 MiB PDE per (PDE flag set, access kind, CPL). */
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

/** namedCases is every named case: the rules, then the matrices. */
export function namedCases(): Case[] {
  return [...ruleCases(), ...smallMatrix(), ...largeMatrix()];
}
