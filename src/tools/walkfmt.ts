// The walk of one linear address, printed as the seeds draw it: the PDE (index,
// where it is, its value and flags), the PTE likewise or the 4 MiB page, the
// page offset and the physical address; or where and why translation stops,
// with the error code a CPU access would get, in words. Shared by
// `pagelab translate` and `pagelab inspect --translate`; walkJson is the JSON
// contract of both (`--json`).

import { hex } from '../hw/addr.js';
import { ACCESS_FETCH, ACCESS_NAMES, ACCESS_WRITE, type AccessKind } from '../hw/fault.js';
import {
  FRAME_MASK,
  LARGE_FRAME_MASK,
  PDE_LARGE_RSVD_BIT21,
  PDE_PS,
  PTE_P,
  describeErrorCode,
  flagNames,
  pdIndex,
  ptIndex,
} from '../hw/paging.js';
import type { WalkState } from '../hw/walk.js';

/** What formatWalk needs of a walk: src/hw's WalkState has it all. */
export type WalkView = Pick<WalkState, 'pdeAddr' | 'pde' | 'pteAddr' | 'pte' | 'large' | 'phys' | 'errorCode'>;

export interface WalkFormatOptions {
  /** The access the walk was made for (default: a supervisor read). */
  readonly kind?: AccessKind;
  readonly user?: boolean;
  /** CR4.PSE: whether PDE.PS meant a 4 MiB page (only used to explain an ignored PS). */
  readonly pse?: boolean;
  /** A remark about a paging-structure entry's physical address (e.g. "past the end of the image"). */
  readonly annotate?: (entryAddr: number) => string | undefined;
}

/** The JSON contract of `pagelab translate --json` and `pagelab inspect --translate --json`. */
export interface WalkJson {
  readonly linear: number;
  readonly pde: { readonly index: number; readonly value: number };
  readonly pte: { readonly index: number; readonly value: number } | null;
  readonly physical: number | null;
  readonly fault: { readonly errorCode: number } | null;
}

/** formatWalk prints the walk of `linear` recorded in w, one line per step. */
export function formatWalk(w: WalkView, linear: number, options: WalkFormatOptions = {}): string[] {
  const lin = linear >>> 0;
  const lines = [headline(w, lin)];
  lines.push(pdeLine(w, lin, options));
  if (w.pteAddr >= 0) lines.push(pteLine(w, lin, options));
  lines.push(w.phys >= 0 ? successLine(w, options) : faultLine(w, options));
  return lines;
}

/** headline splits the linear address into its fields. */
function headline(w: WalkView, lin: number): string {
  if (w.large) return `linear ${hex(lin)} = PDE ${pdIndex(lin)} | offset ${hex(lin & 0x3fffff, 6)} (4 MiB page)`;
  return `linear ${hex(lin)} = PDE ${pdIndex(lin)} | PTE ${ptIndex(lin)} | offset ${hex(lin & 0xfff, 3)}`;
}

/** entryText shows an entry's value and flags, with a remark about where it lies. */
function entryText(name: string, addr: number, value: number, isPde: boolean, o: WalkFormatOptions): string {
  const flags = (value & PTE_P) === 0 ? 'not present' : flagNames(value, isPde).join(' ');
  const note = o.annotate?.(addr);
  return `${name} at ${hex(addr)} = ${hex(value)} [${flags}]${note === undefined ? '' : ` (${note})`}`;
}

/** pdeLine shows the PDE and where it leads. */
function pdeLine(w: WalkView, lin: number, o: WalkFormatOptions): string {
  const text = '  ' + entryText(`PDE ${pdIndex(lin)}`, w.pdeAddr, w.pde, true, o);
  if ((w.pde & PTE_P) === 0) return text;
  if (w.large) {
    if ((w.pde & PDE_LARGE_RSVD_BIT21) !== 0) return `${text} -> 4 MiB page, but reserved bit 21 is set`;
    return `${text} -> 4 MiB page at ${hex(largeBase(w.pde))}`;
  }
  const ignored = (w.pde & PDE_PS) !== 0 && o.pse === false ? ' (PS ignored: CR4.PSE=0)' : '';
  return `${text} -> page table at ${hex((w.pde & FRAME_MASK) >>> 0)}${ignored}`;
}

/** pteLine shows the PTE and its frame. */
function pteLine(w: WalkView, lin: number, o: WalkFormatOptions): string {
  const text = '  ' + entryText(`PTE ${ptIndex(lin)}`, w.pteAddr, w.pte, false, o);
  return (w.pte & PTE_P) === 0 ? text : `${text} -> frame ${hex((w.pte & FRAME_MASK) >>> 0)}`;
}

/** largeBase is a 4 MiB page's physical base, PSE-36 bits included. */
function largeBase(pde: number): number {
  return ((pde >>> 13) & 0xff) * 0x1_0000_0000 + ((pde & LARGE_FRAME_MASK) >>> 0);
}

/** accessText names the access: "supervisor read", "user write". */
function accessText(o: WalkFormatOptions): string {
  return `${o.user === true ? 'user' : 'supervisor'} ${ACCESS_NAMES[o.kind ?? 0]}`;
}

/** successLine gives the physical address. */
function successLine(w: WalkView, o: WalkFormatOptions): string {
  return `  physical ${hex(w.phys, w.phys > 0xffffffff ? 9 : 8)} (${accessText(o)} allowed)`;
}

/** faultLine says where the walk stopped and the page-fault error code. */
function faultLine(w: WalkView, o: WalkFormatOptions): string {
  const code = w.errorCode;
  return `  stops: ${stopReason(w, o)}: page fault, error code ${hex(code, 1)} (${describeErrorCode(code)})`;
}

/** stopReason explains in words why the walk failed. */
function stopReason(w: WalkView, o: WalkFormatOptions): string {
  if ((w.pde & PTE_P) === 0) return 'PDE not present';
  if (w.pteAddr >= 0 && (w.pte & PTE_P) === 0) return 'PTE not present';
  if (w.large && (w.pde & PDE_LARGE_RSVD_BIT21) !== 0) return 'reserved bit set in the PDE';
  const what = o.kind === ACCESS_WRITE ? 'write' : o.kind === ACCESS_FETCH ? 'fetch' : 'read';
  return `a ${o.user === true ? 'user' : 'supervisor'} ${what} is not allowed here`;
}

/** walkJson is the walk as numbers: pte is null for a 4 MiB page or a missing PDE. */
export function walkJson(w: WalkView, linear: number): WalkJson {
  const lin = linear >>> 0;
  return {
    linear: lin,
    pde: { index: pdIndex(lin), value: w.pde >>> 0 },
    pte: w.pteAddr >= 0 ? { index: ptIndex(lin), value: w.pte >>> 0 } : null,
    physical: w.phys >= 0 ? w.phys : null,
    fault: w.phys >= 0 ? null : { errorCode: w.errorCode },
  };
}
