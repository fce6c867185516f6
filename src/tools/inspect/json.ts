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

const PDES_OPEN = '{\n  "pdes": [\n';
const PDES_CLOSE = '\n  ]\n}';

/**
 * jsonPieces gives `JSON.stringify(toJson(view), null, 2) + '\n'` a directory entry at a time, so a document larger
 * than one string may be (1,024 full tables) is written out whole; the bytes are the same.
 */
export function* jsonPieces(view: DirectoryView): Generator<string> {
  const top = JSON.stringify(toJson({ ...view, pdes: [] }), null, 2); // ends with "pdes": []\n}
  if (view.pdes.length === 0) {
    yield `${top}\n`;
    return;
  }
  yield `${top.slice(0, -'[]\n}'.length)}[\n`;
  for (let i = 0; i < view.pdes.length; i++) {
    // stringified where it stands in the document, so JSON.stringify indents it (twice as fast as re-indenting)
    const entry = JSON.stringify({ pdes: [pdeJson(view.pdes[i])] }, null, 2).slice(
      PDES_OPEN.length,
      -PDES_CLOSE.length,
    );
    yield `${entry}${i + 1 < view.pdes.length ? ',' : ''}\n`;
  }
  yield '  ]\n}\n';
}
