// The swap entry: what a swapped-out page's PTE holds (as Linux's swp_entry_t on i386).
//
//   31                    12 11        2   1    0
//  +------------------------+-----------+-----+---+
//  |  slot number (20 bits) |  0 (rsvd) | SWP | P |
//  +------------------------+-----------+-----+---+
//
// P = 0, so the MMU faults on any access and ignores every other bit (SDM 4.3, Table 4-6: "Ignored" for
// bits 31:1 of a not-present PTE). Bit 1 (SWP) marks a swap entry, so slot 0 encodes as 0x00000002 and is
// never mistaken for an empty PTE (0). Bits 11:2 are zero; decode rejects anything else by name.
import { PagelabError } from '../../errors.js';
import { PTE_P } from '../../hw/paging.js';

/** The swap-entry marker bit of a not-present PTE (bit 1, where RW sits in a present one). */
export const SWP_MARK = 1 << 1;
/** Slots a swap entry can name: 20 bits. */
export const SWP_MAX_SLOTS = 1 << 20;
const SWP_SHIFT = 12;
const SWP_LOW_MASK = 0xfff;

/** A PTE value that is not a well-formed swap entry. */
export class SwapEntryError extends PagelabError {}

/** The PTE value for a page swapped out to `slot` (P = 0, SWP = 1). */
export function swapEntry(slot: number): number {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SWP_MAX_SLOTS) {
    throw new SwapEntryError(`swap slot ${slot} out of range (0..${SWP_MAX_SLOTS - 1})`);
  }
  return ((slot << SWP_SHIFT) | SWP_MARK) >>> 0;
}

/** True when a PTE value is a swap entry (not present, marker set, bits 11:2 clear). */
export function isSwapEntry(pte: number): boolean {
  return (pte & PTE_P) === 0 && (pte & SWP_LOW_MASK) === SWP_MARK;
}

/** The slot a swap entry names; throws naming the PTE value when it is not one. */
export function swapSlot(pte: number): number {
  if (!isSwapEntry(pte)) {
    const v = `0x${(pte >>> 0).toString(16).padStart(8, '0')}`;
    throw new SwapEntryError(`PTE ${v} is not a swap entry (expected P=0, bit 1 set, bits 11:2 clear)`);
  }
  return pte >>> SWP_SHIFT;
}
