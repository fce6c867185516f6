// Page-table layouts built in a Machine's memory, and the memory as an image
// (byte i = physical address i), for the lint and walk tests.
import { Machine } from '../../../src/hw/machine.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PSE, PDE_PS, PTE_P, PTE_RW, PTE_US } from '../../../src/hw/paging.js';
import { BufferImage } from '../../../src/tools/inspect/image.js';
import type { Registers } from '../../../src/tools/inspect/regs.js';

export const RAM = 8 << 20;
export const PD = 0x180000;
export const KPT = 0x181000; // the kernel's page table (PDE 768)
export const UPT = 0x182000; // a user page table (PDE 32, 0x08000000)
export const KTEXT = 0xc0100000; // one page of kernel code
const P = PTE_P;
const RW = PTE_RW;
const US = PTE_US;

/** bytesOf copies a machine's RAM: byte i = physical address i. */
export function bytesOf(m: Machine, size = RAM): Uint8Array {
  const bytes = new Uint8Array(size);
  m.mem.forEachWrittenChunk((base, chunk) => {
    if (base < size) bytes.set(chunk.subarray(0, Math.min(chunk.length, size - base)), base);
  });
  return bytes;
}

/** imageOf is a machine's RAM as an image. */
export function imageOf(m: Machine, size = RAM): BufferImage {
  return new BufferImage(bytesOf(m, size));
}

/**
 * seedsKernel builds the seeds' higher-half kernel without mistakes: PDE 768
 * maps physical 0..4 MiB-4 KiB at 0xC0000000 (text read-only), the temporary
 * slot is empty, a user program sits at 0x08048000.
 */
export function seedsKernel(): Machine {
  const m = new Machine({ ram: RAM, tlb: 'none' });
  m.mem.write32(PD + 768 * 4, KPT | P | RW);
  for (let i = 0; i < 1023; i++) m.mem.write32(KPT + i * 4, (i * 0x1000) | P | (i === 0x100 ? 0 : RW));
  m.mem.write32(PD + 32 * 4, UPT | P | RW | US);
  for (let i = 0; i < 4; i++) m.mem.write32(UPT + (0x48 + i) * 4, (0x200000 + i * 0x1000) | P | US);
  m.mem.write32(UPT + 0x4c * 4, 0x204000 | P | RW | US);
  m.mmu.writeCr3(PD);
  m.mmu.writeCr0(CR0_PE | CR0_PG | CR0_WP);
  return m;
}

export const SEEDS_REGS: Registers = { cr0: CR0_PE | CR0_PG | CR0_WP, cr3: PD, cr4: 0, eip: KTEXT + 0x10 };

/** brokenKernel adds one of each mistake to the seeds' kernel (CR4.PSE on). */
export function brokenKernel(): Machine {
  const m = seedsKernel();
  m.mem.write32(PD + 0, KPT | P | RW); // identity map left behind
  m.mem.write32(KPT + 0x100 * 4, 0x100000 | P | RW); // kernel text writable
  m.mem.write32(KPT + 1023 * 4, UPT | P | RW); // temporary slot left on a page table
  m.mem.write32(PD + 769 * 4, 0x183000 | P | RW | US);
  m.mem.write32(0x183000, 0x300000 | P | RW | US); // a user-accessible kernel page at 0xC0400000
  m.mem.write32(0x183004, 0x20000000 | P | RW); // a frame outside RAM at 0xC0401000
  m.mem.write32(PD + 770 * 4, 0x10000000 | P | RW); // a page table outside RAM
  m.mem.write32(PD + 771 * 4, 0x400000 | P | RW | PDE_PS | (1 << 21)); // reserved bit 21
  m.mem.write32(UPT + 0x50 * 4, 0x204000 | P | US); // the data frame again, read-only
  m.mmu.writeCr4(CR4_PSE);
  return m;
}

export const BROKEN_REGS: Registers = { ...SEEDS_REGS, cr4: CR4_PSE };
