// pagelab/boot: the public face of the boot layer (src/boot). Parsing the
// kernel's ELF image and the multiboot information structure, loading a
// multiboot kernel, and boot(): the whole multiboot boot of a machine up to the
// BootInfo the memory manager starts from. Everything named here is a contract.
// The ELF segment flags are renamed ELF_PF_* here, apart from the page-fault
// error bits PF_* of pagelab/hw.

export { PagelabError, ParseError } from '../errors.js';
export { boot, type BootOptions, type BootResult, type KernelImage } from '../boot/boot.js';
export type { BootStep, IdentityFlush } from '../boot/bootstrap.js';
export { parseCapture, type CapturedBoot, type CapturedRegion } from '../boot/capture.js';
export { DEFAULT_KERNEL_NAME, defaultKernelPath } from '../boot/default-kernel.js';
export {
  PF_R as ELF_PF_R,
  PF_W as ELF_PF_W,
  PF_X as ELF_PF_X,
  PT_LOAD,
  PT_NULL,
  SHT_NOBITS,
  SHT_STRTAB,
  SHT_SYMTAB,
  parseElf32,
  symbolMap,
  type Elf32,
  type ElfSymbol,
  type ProgramHeader,
  type SectionHeader,
} from '../boot/elf.js';
export {
  BOOT_MAPPED_BYTES,
  KERNEL_PDE_INDEX,
  KERNEL_VIRTUAL_BASE,
  MMAP_ACPI_RECLAIMABLE,
  MMAP_AVAILABLE,
  MMAP_BAD,
  MMAP_NVS,
  MMAP_RESERVED,
  type BootInfo,
  type BootModule,
  type KernelExtents,
  type KernelSegment,
  type MemoryMapEntry,
  type ReservedRange,
} from '../boot/handoff.js';
export { MULTIBOOT_HEADER_MAGIC, findMultibootHeader, loadKernel, type LoadedKernel } from '../boot/kernel-image.js';
export type { ModuleInput } from '../boot/multiboot-build.js';
export {
  MBI_AOUT_SYMS,
  MBI_APM,
  MBI_BOOTDEV,
  MBI_CMDLINE,
  MBI_CONFIG,
  MBI_DRIVES,
  MBI_ELF_SHDR,
  MBI_FRAMEBUFFER,
  MBI_LOADER_NAME,
  MBI_MEMORY,
  MBI_MMAP,
  MBI_MODS,
  MBI_VBE,
  MULTIBOOT_BOOTLOADER_MAGIC,
  parseMultiboot,
  type MbMmapEntry,
  type MbModule,
  type MbString,
  type MultibootInfo,
  type PhysicalBytes,
} from '../boot/multiboot.js';
