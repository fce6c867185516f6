// pagelab/hw: the public face of the machine (src/hw). Physical memory, the
// control registers and the MMU, the TLB, the page walk, the paging flags,
// addresses and faults, segmentation (descriptors, selectors, the GDT/LDT unit). Everything named here is a contract; what is not
// named (the walk's fast paths, the TLB's rights and slot encodings) is internal.
// The Mmu and the Tlb are exported as types: a machine is built with `new Machine(options)`.

export { PagelabError } from '../errors.js';
export {
  LARGE_PAGE_SIZE,
  MAX_PHYS_4G,
  PAGE_SHIFT,
  PAGE_SIZE,
  hex,
  lin,
  pageAlignDown,
  pageAlignUp,
  phys,
  type LinAddr,
  type PhysAddr,
} from '../hw/addr.js';
export {
  ACCESS_FETCH,
  ACCESS_NAMES,
  ACCESS_READ,
  ACCESS_WRITE,
  GeneralProtection,
  PageFault,
  type AccessKind,
} from '../hw/fault.js';
export { DEFAULT_RAM, Machine, type AccessSize, type MachineOptions, type PageFaultHandler } from '../hw/machine.js';
export { BusError, PhysicalMemory, pcLayout, type MemoryOptions, type RamRange } from '../hw/memory.js';
export type { Mmu, MmuCounters } from '../hw/mmu.js';
export {
  CR0_ET,
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR3_BASE_MASK,
  CR3_PCD,
  CR3_PWT,
  CR4_PAE,
  CR4_PGE,
  CR4_PSE,
  FRAME_MASK,
  LARGE_FRAME_MASK,
  PDE_LARGE_RSVD_BIT21,
  PDE_PAT_LARGE,
  PDE_PS,
  PDE_PSE36_MASK,
  PF_ID,
  PF_P,
  PF_RSVD,
  PF_U,
  PF_W,
  PTE_A,
  PTE_AVAIL_MASK,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_PAT,
  PTE_PCD,
  PTE_PWT,
  PTE_RW,
  PTE_US,
  describeErrorCode,
  flagNames,
  pdIndex,
  ptIndex,
} from '../hw/paging.js';
export { DEFAULT_TLB, formatTlb, parseTlb, type Tlb, type TlbGeometry } from '../hw/tlb.js';
export {
  WalkState,
  largeReservedMask,
  walk,
  type AccessedOrder,
  type MaxPhysAddr,
  type PagingMode,
  type RsvdErrorCode,
} from '../hw/walk.js';
export {
  CS,
  DS,
  ES,
  FS,
  GS,
  SEGMENT_NAMES,
  SS,
  SegmentFault,
  Segmentation,
  type DescriptorBus,
  type LogicalResult,
  type SegmentFaultKind,
  type SegmentRegister,
  type SegmentationProfile,
} from '../hw/segments.js';
export {
  SEL_RPL,
  SEL_TI,
  SYSTEM_TYPE_LDT,
  TYPE_ACCESSED,
  TYPE_CODE,
  TYPE_EXPAND_DOWN_OR_CONFORMING,
  TYPE_WRITABLE_OR_READABLE,
  decodeDescriptor,
  effectiveLimit,
  encodeDescriptor,
  isCode,
  isNullSelector,
  isReadable,
  isWritableData,
  selectorIndex,
  type DescriptorFields,
  type SegmentDescriptor,
} from '../hw/segdesc.js';
