// The memory map a PC's firmware reports (BIOS E820), as QEMU's i440FX
// machine with SeaBIOS gives it (measured in test/fixtures/multiboot): low
// memory up to the EBDA, the BIOS area, RAM from 1 MiB, ACPI data in the top
// 128 KiB of low RAM, the BIOS ROM below 4 GiB, and RAM past 3.5 GiB moved
// above 4 GiB.

import { PAGE_SIZE, MAX_PHYS_4G } from '../hw/addr.js';
import type { RamRange } from '../hw/memory.js';
import { MMAP_AVAILABLE, MMAP_RESERVED, type MemoryMapEntry } from './handoff.js';

const EBDA = 0x9fc00;
const BIOS_AREA = 0xf0000;
const HIGH_MEMORY = 0x100000;
const ACPI_DATA = 0x20000;
const BIOS_ROM = 0xfffc0000;
/** With this much RAM or more, QEMU keeps 3 GiB below 4 GiB and moves the rest above. */
const SPLIT_AT = 0xe0000000;
const LOW_WHEN_SPLIT = 0xc0000000;
export const MIN_RAM = 0x200000;
export const MAX_RAM = MAX_PHYS_4G;

/** lowMemory is how much of `ram` QEMU puts below 4 GiB. */
export function lowMemory(ram: number): number {
  return ram >= SPLIT_AT ? LOW_WHEN_SPLIT : ram;
}

/** qemuMemoryMap is the E820 map QEMU gives a multiboot kernel with `ram` bytes of RAM. */
export function qemuMemoryMap(ram: number): MemoryMapEntry[] {
  const low = lowMemory(ram);
  const map: MemoryMapEntry[] = [
    { base: 0, length: EBDA, type: MMAP_AVAILABLE },
    { base: EBDA, length: 0xa0000 - EBDA, type: MMAP_RESERVED },
    { base: BIOS_AREA, length: HIGH_MEMORY - BIOS_AREA, type: MMAP_RESERVED },
    { base: HIGH_MEMORY, length: low - HIGH_MEMORY - ACPI_DATA, type: MMAP_AVAILABLE },
    { base: low - ACPI_DATA, length: ACPI_DATA, type: MMAP_RESERVED },
    { base: BIOS_ROM, length: MAX_PHYS_4G - BIOS_ROM, type: MMAP_RESERVED },
  ];
  if (ram > low) map.push({ base: MAX_PHYS_4G, length: ram - low, type: MMAP_AVAILABLE });
  return map;
}

/**
 * machineRam is the RAM the machine models for `ram` bytes: the part below 4 GiB, PC layout
 * ([0, 640 KiB) and [1 MiB, low)). RAM moved above 4 GiB is in the map but not modelled.
 */
export function machineRam(ram: number): RamRange[] {
  const low = lowMemory(ram);
  return [
    { base: 0, length: 0xa0000 },
    { base: HIGH_MEMORY, length: low - HIGH_MEMORY },
  ];
}

/**
 * ramFromMap guesses the RAM size behind a captured map: the end of the highest
 * entry that ends at or below 3.75 GiB (so the BIOS ROM is left out), plus
 * whatever available memory lies at or above 4 GiB.
 */
export function ramFromMap(map: readonly MemoryMapEntry[]): number {
  let low = 0;
  let high = 0;
  for (const e of map) {
    const end = e.base + e.length;
    if (end <= 0xf0000000) low = Math.max(low, end);
    else if (e.base >= MAX_PHYS_4G && e.type === MMAP_AVAILABLE) high += e.length;
  }
  return Math.ceil(low / PAGE_SIZE) * PAGE_SIZE + high;
}

/** overlaps tells whether [a, a + al) and [b, b + bl) share a byte. */
export function overlaps(a: number, al: number, b: number, bl: number): boolean {
  return a < b + bl && b < a + al;
}
