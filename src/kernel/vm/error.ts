// VmError: a rejected kernel-VM call, or VM state in RAM that fails a check.
// `kind` says what happened, for callers to match on (heapbackend.ts tells
// out-of-memory from the rest by it); `address` is the linear address and
// `frame` the physical one the call was about, when it names them. A
// rejected call changes no mapping and no frame.

import { PagelabError } from '../../errors.js';

/**
 * - out-of-memory: no frame for a page table, a directory, a count frame or a registry frame;
 * - bad-address: not a 32-bit linear or physical address, or a range running past 4 GiB or not whole pages;
 * - misaligned: a page or frame not aligned to the page size asked for;
 * - bad-flags: flag bits outside RW|US|G|PWT|PCD, or US on a kernel-half page;
 * - reserved: a temporary-mapping slot page, or a PDE the recursive page-table access owns;
 * - slot-exhausted: every temporary-mapping slot is in use (maps nested too deep);
 * - slot-unbalanced: a temporary mapping released that was never made;
 * - outside-window: a physical address the kernel window (KERNEL_BASE + phys) does not reach;
 * - already-mapped: the page (or its 4 MiB PDE) is in use;
 * - not-mapped: nothing is mapped there;
 * - no-pse: a 4 MiB page asked for with CR4.PSE off;
 * - destroyed: the address space was destroyed (or never registered);
 * - busy: the space cannot be destroyed now (it is the kernel's, current, or still maps user pages);
 * - corrupted: VM state in RAM fails a check (the address-space registry).
 */
export type VmErrorKind =
  | 'out-of-memory'
  | 'bad-address'
  | 'misaligned'
  | 'bad-flags'
  | 'reserved'
  | 'slot-exhausted'
  | 'slot-unbalanced'
  | 'outside-window'
  | 'already-mapped'
  | 'not-mapped'
  | 'no-pse'
  | 'destroyed'
  | 'busy'
  | 'corrupted';

/** What a VmError names besides its kind. */
export interface VmErrorAt {
  /** The linear address (page) the call was about. */
  readonly address?: number;
  /** The physical address (frame, directory) the call was about. */
  readonly frame?: number;
}

export class VmError extends PagelabError {
  readonly address: number | null;
  readonly frame: number | null;

  constructor(
    readonly kind: VmErrorKind,
    message: string,
    at: VmErrorAt = {},
  ) {
    super(message);
    this.address = at.address ?? null;
    this.frame = at.frame ?? null;
  }
}
