// The page directory as JSON for tools (`pagelab inspect --format json`):
// numbers, not strings; a page table's entries as runs like the tree's.

import { PTE_RW, PTE_US, flagNames } from '../../hw/paging.js';
import { LARGE_PAGE, PAGE, largePhys, pteRuns, type DirectoryView, type PdeView } from './scan.js';

export interface RangeJson {
  readonly start: number;
  readonly end: number;
}

export interface PteRunJson {
  readonly first: number;
  readonly count: number;
  readonly value: number;
  readonly flags: string[];
  readonly linear: RangeJson;
  readonly physical: RangeJson;
  /** Effective permission over PDE and PTE: user-accessible, writable. */
  readonly user: boolean;
  readonly writable: boolean;
}

export interface PdeJson {
  readonly index: number;
  readonly entryAddress: number;
  readonly value: number;
  readonly flags: string[];
  readonly linear: RangeJson;
  readonly kind: 'page' | 'table';
  readonly physical?: RangeJson;
  readonly table?: { readonly address: number; readonly inImage: boolean; readonly runs: PteRunJson[] };
}

export interface InspectJson {
  readonly cr0: number;
  readonly cr3: number;
  readonly cr4: number;
  readonly imageSize: number;
  readonly directory: { readonly address: number; readonly inImage: boolean };
  readonly pdes: PdeJson[];
}

/** span is the inclusive range of `size` bytes from start. */
function span(start: number, size: number): RangeJson {
  return { start, end: start + size - 1 };
}

/** toJson converts a scanned directory. */
export function toJson(view: DirectoryView): InspectJson {
  return {
    cr0: view.regs.cr0,
    cr3: view.regs.cr3,
    cr4: view.regs.cr4,
    imageSize: view.imageSize,
    directory: { address: view.dirAddr, inImage: view.dirInImage },
    pdes: view.pdes.map(pdeJson),
  };
}

/** pdeJson converts one present PDE. */
function pdeJson(pde: PdeView): PdeJson {
  const base = {
    index: pde.index,
    entryAddress: pde.entryAddr,
    value: pde.value,
    flags: flagNames(pde.value, true),
    linear: span(pde.linear, LARGE_PAGE),
  };
  if (pde.large) return { ...base, kind: 'page', physical: span(largePhys(pde.value), LARGE_PAGE) };
  const runs =
    pde.ptes === null
      ? []
      : pteRuns(pde.ptes).map((r) => ({
          first: r.first,
          count: r.count,
          value: r.value,
          flags: flagNames(r.value, false),
          linear: span(pde.linear + r.first * PAGE, r.count * PAGE),
          physical: span((r.value & 0xfffff000) >>> 0, r.count * PAGE),
          user: (r.value & pde.value & PTE_US) !== 0,
          writable: (r.value & pde.value & PTE_RW) !== 0,
        }));
  return { ...base, kind: 'table', table: { address: pde.table!, inImage: pde.ptes !== null, runs } };
}
