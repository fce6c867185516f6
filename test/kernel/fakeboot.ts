// A test double of the boot hand-off for kernel tests: a machine in the state
// the bootstrap leaves it (paging on, the first 4 MiB mapped at 0xC0000000 by
// a 4 KiB table, no identity map), without parsing a kernel image. The real
// bootstrap (src/boot) is tested on its own; kernel tests that want it use it.

import { phys, lin } from '../../src/hw/addr.js';
import { Machine } from '../../src/hw/machine.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PSE, PDE_PS, PTE_P, PTE_RW } from '../../src/hw/paging.js';
import type { RamRange } from '../../src/hw/memory.js';
import { MMAP_AVAILABLE, MMAP_RESERVED, type BootInfo, type MemoryMapEntry } from '../../src/boot/handoff.js';

export interface FakeBootOptions {
  /** RAM bytes (PC layout) or explicit ranges. Default 16 MiB. */
  ram?: number | RamRange[];
  /** Map PDE 768 with one 4 MiB page instead of a 4 KiB table. */
  pse?: boolean;
  tlb?: string;
  /** Kernel image physical end (start is 1 MiB). Default 1 MiB + 64 KiB. */
  kernelEnd?: number;
}

const DIR = 0x00101000; // inside the fake kernel image, as a .bss boot_page_directory would be
const TABLE = 0x00102000;

/** fakeBoot returns a BootInfo for a machine booted as the default kernel would be. */
export function fakeBoot(options: FakeBootOptions = {}): BootInfo {
  const ram = options.ram ?? 16 * 1024 * 1024;
  const machine = new Machine({ ram, tlb: options.tlb ?? 'sa:16x4' });
  const kernelEnd = options.kernelEnd ?? 0x110000;
  const pse = options.pse ?? false;
  for (let i = 0; i < 1024; i++) machine.mem.write32(TABLE + i * 4, (i * 4096) | PTE_P | PTE_RW);
  machine.mem.write32(DIR + 768 * 4, pse ? PTE_P | PTE_RW | PDE_PS : TABLE | PTE_P | PTE_RW);
  machine.mmu.writeCr3(DIR);
  if (pse) machine.mmu.writeCr4(CR4_PSE);
  machine.mmu.writeCr0(CR0_PE | CR0_PG | CR0_WP);
  const memoryMap = memoryMapOf(machine.mem.ranges);
  return {
    machine,
    memoryMap,
    kernel: {
      virtualStart: lin(0xc0100000),
      virtualEnd: lin(0xc0000000 + kernelEnd),
      physicalStart: phys(0x100000),
      physicalEnd: phys(kernelEnd),
    },
    modules: [],
    multiboot: { infoAddr: phys(0x9000), ranges: [{ base: 0x9000, length: 0x100, what: 'multiboot info' }] },
    bootDirectory: phys(DIR),
    bootPageTable: pse ? null : phys(TABLE),
    bootDirectoryVirtual: lin(0xc0000000 + DIR),
    bootPageTableVirtual: pse ? null : lin(0xc0000000 + TABLE),
    pse,
    cmdline: '',
    reserved: [
      { base: 0x9000, length: 0x100, what: 'multiboot info' },
      { base: 0x100000, length: kernelEnd - 0x100000, what: 'kernel image' },
    ],
    symbols: new Map(),
    segments: [],
  };
}

/** memoryMapOf describes RAM ranges as a multiboot memory map, with the BIOS area reserved like QEMU's. */
function memoryMapOf(ranges: readonly RamRange[]): MemoryMapEntry[] {
  const out: MemoryMapEntry[] = [];
  for (const r of ranges) {
    if (r.base === 0 && r.length === 0xa0000) {
      out.push(
        { base: 0, length: 0x9fc00, type: MMAP_AVAILABLE },
        { base: 0x9fc00, length: 0x400, type: MMAP_RESERVED },
      );
    } else out.push({ base: r.base, length: r.length, type: MMAP_AVAILABLE });
  }
  return out;
}
