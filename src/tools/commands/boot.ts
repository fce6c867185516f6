// `pagelab boot`: until the boot path lands, a demo of the machine: build page
// tables in RAM, enable paging, translate, fault, and show a stale TLB entry.
import type { Command } from 'commander';
import { hex } from '../../hw/addr.js';
import { Machine } from '../../hw/machine.js';
import { PageFault } from '../../hw/fault.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PSE, PDE_PS, PTE_P, PTE_RW, flagNames } from '../../hw/paging.js';

export function registerBoot(program: Command): void {
  program
    .command('boot')
    .description('boot the default machine and show paging at work')
    .action(() => runDemo((s) => process.stdout.write(s + '\n')));
}

// runDemo builds a page directory at 0x1000 mapping the first 4 MiB twice and prints what happens.
export function runDemo(out: (line: string) => void): void {
  const m = new Machine();
  const dir = 0x1000;
  const table = 0x2000;
  for (let i = 0; i < 1024; i++) m.mem.write32(table + i * 4, (i * 4096) | PTE_P | PTE_RW);
  m.mem.write32(dir + 0 * 4, table | PTE_P | PTE_RW);
  m.mem.write32(dir + 768 * 4, 0 | PTE_P | PTE_RW | PDE_PS);
  m.mem.write32(0x100000, 0xcafebabe);
  m.mmu.writeCr3(dir);
  m.mmu.writeCr4(CR4_PSE);
  m.mmu.writeCr0(CR0_PE | CR0_PG | CR0_WP);
  out(`paging on: CR0=${hex(m.mmu.cr0)} CR3=${hex(m.mmu.cr3)} CR4=${hex(m.mmu.cr4)}`);
  out(`PDE 0   = ${hex(m.mem.read32(dir))} [${flagNames(m.mem.read32(dir), true).join(' ')}]`);
  out(`PDE 768 = ${hex(m.mem.read32(dir + 768 * 4))} [${flagNames(m.mem.read32(dir + 768 * 4), true).join(' ')}]`);
  for (const a of [0x00100000, 0xc0100000]) out(`read32 ${hex(a)} -> ${hex(m.read32(a))}`);
  try {
    m.read32(0x00400000);
  } catch (e) {
    if (!(e instanceof PageFault)) throw e;
    out(`read32 0x00400000 -> ${e.message}; CR2=${hex(m.mmu.cr2)}`);
  }
  m.mem.write32(table + 0x100 * 4, 0x200000 | PTE_P | PTE_RW);
  m.mem.write32(0x200000, 0x12345678);
  out(`PTE 256 retargeted to 0x200000 without INVLPG: read32 0x00100000 -> ${hex(m.read32(0x100000))} (stale TLB entry)`);
  m.mmu.invlpg(0x100000);
  out(`after INVLPG 0x00100000: read32 0x00100000 -> ${hex(m.read32(0x100000))}`);
  const c = m.mmu.counters();
  out(`TLB: hits=${c.hits} misses=${c.misses} walks=${c.walks} invlpgs=${c.invlpgs}`);
}
