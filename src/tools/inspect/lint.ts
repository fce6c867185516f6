// Mistakes in a page directory, each with the entry's location and a one-line
// reason. Mapped pages are first merged into runs (consecutive linear pages
// of one PDE over consecutive frames with the same effective permission) so
// that one mistake over many pages is one finding.

import { hex } from '../../hw/addr.js';
import { CR0_WP, PDE_LARGE_RSVD_BIT21, PDE_PS } from '../../hw/paging.js';
import { LARGE_PAGE, PAGE, forEachLeaf, type DirectoryView, type Leaf, type PdeView } from './scan.js';
import { sizeText } from './tree.js';

export type Severity = 'error' | 'warning';
export type CheckId =
  | 'cr3-outside'
  | 'table-outside'
  | 'frame-outside'
  | 'reserved-bit'
  | 'ps-ignored'
  | 'user-kernel'
  | 'writable-code'
  | 'identity-left'
  | 'table-alias'
  | 'alias-perms';

export interface Location {
  readonly entry: 'CR3' | 'PDE' | 'PTE';
  readonly pde: number | null;
  readonly pte: number | null;
  /** Physical address of the entry (CR3: the directory's). */
  readonly entryAddress: number;
  readonly linear: number | null;
}

export interface Finding {
  readonly severity: Severity;
  readonly check: CheckId;
  readonly location: Location;
  readonly message: string;
}

export interface AddressRange {
  readonly start: number;
  readonly end: number;
}

export interface LintOptions {
  /** RAM size in bytes; frames and tables at or above it are outside RAM. */
  readonly ramSize: number;
  /** Where the kernel half starts (0xC0000000 in the seeds' layout). */
  readonly kernelBase: number;
  /** Linear ranges (inclusive ends) that hold code and must be read-only. */
  readonly code: readonly AddressRange[];
}

/** Mapped pages merged: same PDE, consecutive linear pages and frames, same permission. */
interface Run {
  readonly first: Leaf;
  linearEnd: number;
  physEnd: number;
  readonly recursive: boolean;
}

/** lint runs every check and returns the findings, errors first, each group in address order. */
export function lint(view: DirectoryView, options: LintOptions): Finding[] {
  if (!view.dirInImage) return [cr3Outside(view)];
  const out: Finding[] = [];
  for (const pde of view.pdes) out.push(...pdeFindings(view, pde, options));
  const runs = leafRuns(view);
  for (const run of runs) out.push(...runFindings(view, run, options));
  out.push(...identityLeft(view, runs, options), ...tableAliases(view, runs, options), ...permAliases(runs, options));
  return out.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
}

/** cr3Outside reports a directory the image does not hold. */
function cr3Outside(view: DirectoryView): Finding {
  return {
    severity: 'error',
    check: 'cr3-outside',
    location: { entry: 'CR3', pde: null, pte: null, entryAddress: view.dirAddr, linear: null },
    message: `CR3 points at ${hex(view.dirAddr)}, past the end of the ${sizeText(view.imageSize)} image: no page directory`,
  };
}

/** pdeAt is the location of a PDE. */
function pdeAt(pde: PdeView): Location {
  return { entry: 'PDE', pde: pde.index, pte: null, entryAddress: pde.entryAddr, linear: pde.linear };
}

/** leafAt is the location of the entry that maps a leaf. */
function leafAt(leaf: Leaf): Location {
  if (leaf.ptIndex === null) return pdeAt(leaf.pde);
  return { entry: 'PTE', pde: leaf.pde.index, pte: leaf.ptIndex, entryAddress: leaf.entryAddr, linear: leaf.linear };
}

/** runAt is the location of the entry that maps `linear`, a page inside a run. */
function runAt(run: Run, linear: number): Location {
  const leaf = run.first;
  if (leaf.ptIndex === null) return pdeAt(leaf.pde);
  const pte = leaf.ptIndex + (linear - leaf.linear) / PAGE;
  return { entry: 'PTE', pde: leaf.pde.index, pte, entryAddress: leaf.pde.table! + pte * 4, linear };
}

/** pdeFindings checks one PDE: its table inside the image and RAM, its reserved and PS bits. */
function pdeFindings(view: DirectoryView, pde: PdeView, o: LintOptions): Finding[] {
  const out: Finding[] = [];
  const at = pdeAt(pde);
  if (pde.table !== null && pde.ptes === null) {
    const why =
      pde.table >= o.ramSize
        ? `outside RAM (RAM ends at ${hex(o.ramSize)})`
        : `past the end of the ${sizeText(view.imageSize)} image; its entries were not checked`;
    out.push({
      severity: 'error',
      check: 'table-outside',
      location: at,
      message: `page table at ${hex(pde.table)} is ${why}`,
    });
  }
  if (pde.large && (pde.value & PDE_LARGE_RSVD_BIT21) !== 0) {
    out.push({
      severity: 'error',
      check: 'reserved-bit',
      location: at,
      message: 'reserved bit 21 set in a 4 MiB PDE: every access through it faults (RSVD)',
    });
  }
  if (!pde.large && (pde.value & PDE_PS) !== 0) {
    out.push({
      severity: 'warning',
      check: 'ps-ignored',
      location: at,
      message: `PS set but CR4.PSE=0: used as a pointer to a page table at ${hex(pde.table!)}, not as a 4 MiB page`,
    });
  }
  return out;
}

/**
 * leafRuns merges the directory's usable mappings into runs. A 4 MiB page with
 * reserved bit 21 set maps nothing (every access faults, SDM 4.3): it has its
 * reserved-bit finding and takes no part in the checks of what is reachable.
 */
function leafRuns(view: DirectoryView): Run[] {
  const runs: Run[] = [];
  let cur: Run | null = null;
  forEachLeaf(view, (leaf) => {
    if (leaf.ptIndex === null && (leaf.value & PDE_LARGE_RSVD_BIT21) !== 0) return;
    const recursive = leaf.pde.table === view.dirAddr;
    const joins =
      cur !== null &&
      cur.first.pde === leaf.pde &&
      cur.linearEnd === leaf.linear &&
      cur.physEnd === leaf.phys &&
      cur.first.user === leaf.user &&
      cur.first.writable === leaf.writable &&
      cur.recursive === recursive;
    if (joins) {
      cur!.linearEnd += leaf.size;
      cur!.physEnd += leaf.size;
      return;
    }
    cur = { first: leaf, linearEnd: leaf.linear + leaf.size, physEnd: leaf.phys + leaf.size, recursive };
    runs.push(cur);
  });
  return runs;
}

/** runText names a run's linear and physical ranges. */
function runText(run: Run): string {
  const pages = (run.linearEnd - run.first.linear) / (run.first.size === LARGE_PAGE ? LARGE_PAGE : PAGE);
  const unit = run.first.size === LARGE_PAGE ? '4 MiB page' : 'page';
  const count = pages === 1 ? `1 ${unit}` : `${pages} ${unit}s`;
  return `${hex(run.first.linear)}-${hex(run.linearEnd - 1)} (${count}, frames ${physHex(run.first.phys)}-${physHex(run.physEnd - 1)})`;
}

function physHex(p: number): string {
  return hex(p, p > 0xffffffff ? 9 : 8);
}

/** permText is a run's effective permission as info mem writes it. */
function permText(run: Run): string {
  return `${run.first.user ? 'u' : '-'}r${run.first.writable ? 'w' : '-'}`;
}

/** runFindings checks one run: frames outside RAM, user access to the kernel half, writable code. */
function runFindings(view: DirectoryView, run: Run, o: LintOptions): Finding[] {
  const out: Finding[] = [];
  const at = leafAt(run.first);
  if (run.physEnd > o.ramSize && !run.recursive) {
    out.push({
      severity: 'warning',
      check: 'frame-outside',
      location: at,
      message: `${runText(run)} reaches outside RAM (RAM ends at ${hex(o.ramSize)}): device memory, or a wrong frame`,
    });
  }
  if (run.first.user && run.linearEnd > o.kernelBase) {
    out.push({
      severity: 'error',
      check: 'user-kernel',
      location: at,
      message: `kernel-half ${runText(run)} is user-accessible (U/S=1 in PDE and ${run.first.ptIndex === null ? 'page' : 'PTE'})`,
    });
  }
  const code = o.code.find((c) => c.start < run.linearEnd && c.end >= run.first.linear);
  const wp = (view.regs.cr0 & CR0_WP) !== 0;
  if (code !== undefined && (run.first.writable || !wp)) {
    const why = run.first.writable ? 'writable' : 'writable by the kernel because CR0.WP=0';
    const first = Math.max(run.first.linear, code.start - (code.start % PAGE));
    out.push({
      severity: 'error',
      check: 'writable-code',
      location: runAt(run, first),
      message: `${runText(run)} overlaps code ${hex(code.start)}-${hex(code.end)} and is ${why}, and executable (32-bit paging has no NX)`,
    });
  }
  return out;
}

/** identityLeft reports the boot identity map still present while the kernel runs in the higher half. */
function identityLeft(view: DirectoryView, runs: readonly Run[], o: LintOptions): Finding[] {
  const identity = runs.filter((r) => r.first.linear < LARGE_PAGE && r.first.linear === r.first.phys);
  if (identity.length === 0) return [];
  const high = runs.filter((r) => r.first.linear >= o.kernelBase);
  const eip = view.regs.eip;
  const aliased = high.some((h) => identity.some((i) => h.first.phys < i.physEnd && i.first.phys < h.physEnd));
  const running = eip !== undefined ? eip >= o.kernelBase : aliased;
  if (!running || high.length === 0) return [];
  const pages = identity.reduce((n, r) => n + (Math.min(r.linearEnd, LARGE_PAGE) - r.first.linear) / PAGE, 0);
  const why = eip !== undefined ? `EIP=${hex(eip)}` : `the same frames are mapped at ${hex(o.kernelBase)} and up`;
  return [
    {
      severity: 'error',
      check: 'identity-left',
      location: pdeAt(identity[0].first.pde),
      message:
        `${pages} pages of the first 4 MiB are still identity-mapped while the kernel runs in the higher half (${why}): ` +
        'clear PDE 0 and INVLPG after the jump',
    },
  ];
}

/** tableFrames maps each paging-structure frame to what it is. */
function tableFrames(view: DirectoryView): Map<number, string> {
  const frames = new Map<number, string>([[view.dirAddr, 'the page directory']]);
  for (const pde of view.pdes) {
    if (pde.table !== null && !frames.has(pde.table)) frames.set(pde.table, `the page table of PDE ${pde.index}`);
  }
  return frames;
}

/**
 * tableAliases reports paging structures mapped writable as ordinary data: not
 * through a recursive slot, the identity map or the kernel's window at kernelBase + phys.
 */
function tableAliases(view: DirectoryView, runs: readonly Run[], o: LintOptions): Finding[] {
  const frames = tableFrames(view);
  const out: Finding[] = [];
  for (const run of runs) {
    const offset = run.first.linear - run.first.phys;
    if (!run.first.writable || run.recursive || offset === 0 || offset === o.kernelBase) continue;
    for (const [frame, what] of frames) {
      if (frame < run.first.phys || frame >= run.physEnd) continue;
      const linear = run.first.linear + (frame - run.first.phys);
      out.push({
        severity: run.first.user ? 'error' : 'warning',
        check: 'table-alias',
        location: runAt(run, linear),
        message: `${what} (frame ${hex(frame)}) is mapped ${run.first.user ? 'user-writable' : 'writable'} as data at ${hex(linear)}`,
      });
    }
  }
  return out;
}

/**
 * permAliases reports one frame mapped at two linear addresses with different
 * permissions in the same half (a kernel-half view of user memory is normal).
 */
function permAliases(runs: readonly Run[], o: LintOptions): Finding[] {
  const sorted = runs.filter((r) => !r.recursive).sort((a, b) => a.first.phys - b.first.phys);
  const out: Finding[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i];
    for (let j = i + 1; j < sorted.length && sorted[j].first.phys < a.physEnd; j++) {
      const b = sorted[j];
      if (permText(a) === permText(b) || a.first.linear >= o.kernelBase !== b.first.linear >= o.kernelBase) continue;
      const lo = Math.max(a.first.phys, b.first.phys);
      const hi = Math.min(a.physEnd, b.physEnd);
      const [x, y] = a.first.linear < b.first.linear ? [a, b] : [b, a];
      const yLinear = y.first.linear + lo - y.first.phys;
      out.push({
        severity: 'warning',
        check: 'alias-perms',
        location: runAt(y, yLinear - (yLinear % PAGE)),
        message:
          `frames ${physHex(lo)}-${physHex(hi - 1)} are mapped at ${hex(x.first.linear + lo - x.first.phys)} (${permText(x)}) ` +
          `and at ${hex(yLinear)} (${permText(y)})`,
      });
    }
  }
  return out;
}

/** formatFinding prints one finding on one line. */
export function formatFinding(f: Finding): string {
  const l = f.location;
  const where = l.entry === 'CR3' ? 'CR3' : l.entry === 'PDE' ? `PDE ${l.pde}` : `PDE ${l.pde} PTE ${l.pte}`;
  const lin = l.linear === null ? '' : ` ${hex(l.linear)}`;
  return `${f.severity.padEnd(7)} ${f.check.padEnd(13)} ${where} @${hex(l.entryAddress)}${lin}: ${f.message}`;
}
