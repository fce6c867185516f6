// pagelab/kernel: the public face of the memory manager (src/kernel).
// kernelInit() brings it up on a booted machine (pagelab/boot's boot().info)
// and returns the live kernel: the frame allocator, the kernel VM with its
// address spaces, and the heap. Their classes are exported as types (the
// kernel builds them; their constructors are not part of the contract), their
// errors as values (for instanceof), with the kernel's layout constants.

export { PagelabError } from '../errors.js';
export type { EarlyAllocator } from '../kernel/early.js';
export { kernelInit, type Kernel, type KernelOptions } from '../kernel/main.js';
export type { PhysAccess } from '../kernel/physaccess.js';
export {
  FRAME_STRATEGIES,
  type AllocOptions,
  type FrameAllocator,
  type FrameAllocatorOptions,
  type FrameMetadata,
  type FrameStats,
  type FrameStrategy,
} from '../kernel/frames/api.js';
export { FrameError, type FrameErrorKind } from '../kernel/frames/error.js';
export type { FrameRegions, LowMemoryPolicy, PfnRange, ReservedPfnRange } from '../kernel/frames/regions.js';
export type { HeapKind, HeapStats, KernelHeap } from '../kernel/heap/api.js';
export { HeapError, type HeapErrorKind } from '../kernel/heap/errors.js';
export { HEAP_KINDS } from '../kernel/heap/heap.js';
export type { KernelCore } from '../kernel/vm/core.js';
export { UnflushedError, type Flush, type FlushTracker, type UnflushedErrorKind } from '../kernel/vm/flush.js';
export type { KernelVm, KernelVmOptions } from '../kernel/vm/kvm.js';
export {
  HEAP_BASE,
  HEAP_LIMIT,
  KERNEL_BASE,
  RECURSIVE_DIRECTORY,
  RECURSIVE_TABLES,
  TEMP_SLOT,
} from '../kernel/vm/layout.js';
export { KernelPanic, installPageFaultHandler, type FaultResolver } from '../kernel/vm/panic.js';
export type { PtAccess, PtAccessKind } from '../kernel/vm/ptaccess.js';
export type { TempSlot } from '../kernel/vm/slot.js';
export { MAP_FLAGS, VmError, type AddressSpace, type SpaceWalk, type Unmapped } from '../kernel/vm/space.js';
export type { VmErrorKind } from '../kernel/vm/error.js';
export type { KernelWindow } from '../kernel/vm/window.js';
export {
  ACCESS_KILLED,
  EFAULT,
  EINVAL,
  ENOMEM,
  FAULT_KINDS,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  ProcError,
  type ExecOptions,
  type ExecResult,
  type FaultCounts,
  type FaultKind,
  type FrameFigures,
  type KernelTotals,
  type KillReason,
  type KillReport,
  type MmapFile,
  type ProcErrorKind,
  type ProcState,
  type ProcessEvent,
  type ProcessKernel,
  type ProcessKernelOptions,
  type ProcessStats,
  type RegionInfo,
  type RegionKind,
} from '../kernel/proc/api.js';
export { STACK_MAX, USER_BASE } from '../kernel/proc/layout.js';
export { createProcessKernel } from '../kernel/proc/proc.js';
