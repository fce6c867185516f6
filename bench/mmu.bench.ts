// MMU throughput: translated reads per second for TLB hits (sequential and
// random within 64 pages), TLB-miss walks, 4 KiB vs 4 MiB pages, PAE hits and walks; and what
// creating a machine costs (its TLB's per-page arrays).
// Run: npm run bench -- mmu
import { Machine } from '../src/hw/machine.js';
import { ACCESS_READ } from '../src/hw/fault.js';
import { CR0_PE, CR0_PG, CR4_PAE, CR4_PSE, PDE_PS, PTE_P, PTE_RW } from '../src/hw/paging.js';
import { BenchTable } from './table.js';

const N = Number(process.env.MMU_N ?? 20_000_000);
/** The access kind as this module's own constant: V8 reloads an imported one on every use. */
const READ = ACCESS_READ;

/** setup maps 64 MiB at 0x40000000, with 4 KiB pages or 4 MiB pages. */
function setup(large: boolean, tlb: string): Machine {
  const m = new Machine({ ram: 256 << 20, tlb });
  const dir = 0x1000;
  for (let d = 0; d < 16; d++) {
    const physBase = 0x4000000 + d * 0x400000;
    if (large) {
      m.mem.write32(dir + (256 + d) * 4, physBase | PTE_P | PTE_RW | PDE_PS);
      continue;
    }
    const table = 0x100000 + d * 4096;
    for (let i = 0; i < 1024; i++) m.mem.write32(table + i * 4, (physBase + i * 4096) | PTE_P | PTE_RW);
    m.mem.write32(dir + (256 + d) * 4, table | PTE_P | PTE_RW);
  }
  for (let p = 0x4000000; p < 0x8000000; p += 4096) m.mem.write32(p, p); // touch the data pages
  m.mmu.writeCr3(dir);
  m.mmu.writeCr4(CR4_PSE);
  m.mmu.writeCr0(CR0_PE | CR0_PG);
  return m;
}

/** setupPae maps the same 64 MiB under PAE paging: PDPTE 1, then 4 KiB pages or 2 MiB pages (slower path). */
function setupPae(large: boolean, tlb: string): Machine {
  const m = new Machine({ ram: 256 << 20, tlb });
  const pdpt = 0x1000;
  const pd = 0x2000;
  m.mem.write32(pdpt + 8, pd | PTE_P);
  for (let d = 0; d < 32; d++) {
    const physBase = 0x4000000 + d * 0x200000;
    if (large) {
      m.mem.write32(pd + d * 8, physBase | PTE_P | PTE_RW | PDE_PS);
      continue;
    }
    const table = 0x100000 + d * 4096;
    for (let i = 0; i < 512; i++) m.mem.write32(table + i * 8, (physBase + i * 4096) | PTE_P | PTE_RW);
    m.mem.write32(pd + d * 8, table | PTE_P | PTE_RW);
  }
  for (let p = 0x4000000; p < 0x8000000; p += 4096) m.mem.write32(p, p);
  m.mmu.writeCr3(pdpt);
  m.mmu.writeCr4(CR4_PAE);
  m.mmu.writeCr0(CR0_PE | CR0_PG);
  return m;
}

/** addresses builds N linear addresses: a pattern over `pages` pages starting at 0x40000000. */
function addresses(pages: number, random: boolean): Uint32Array {
  const a = new Uint32Array(N);
  let x = 0x12345678;
  for (let i = 0; i < N; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const page = random ? (x >>> 0) % pages : (i >>> 10) % pages;
    a[i] = 0x40000000 + page * 4096 + ((i * 4) & 0xffc);
  }
  return a;
}

function timeReads(m: Machine, a: Uint32Array): number {
  let sum = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < a.length; i++) sum = (sum + m.read32(a[i])) | 0;
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sum === 42) console.log('');
  return a.length / dt;
}

function timeTranslate(m: Machine, a: Uint32Array): number {
  let h = 0;
  const mmu = m.mmu;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < a.length; i++) h = (h ^ mmu.translate(a[i], READ)) | 0;
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  if (h === 42) console.log('');
  return a.length / dt;
}

/** row adds one case: its rate in millions of accesses per second and the TLB hit rate it ran at. */
function row(t: BenchTable, name: string, perSec: number, m: Machine): void {
  const c = m.mmu.counters();
  const hitRate = c.hits / Math.max(1, c.hits + c.misses);
  t.row([name, (perSec / 1e6).toFixed(1), `${(hitRate * 100).toFixed(2)}%`]);
}

const cases: [string, boolean, string, number, boolean, 'read' | 'translate', ('32' | 'pae')?][] = [
  ['TLB-hit read32, sequential, 4 KiB pages, sa:16x4', false, 'sa:16x4', 64, false, 'read'],
  ['TLB-hit read32, random within 64 pages, 4 KiB, fa:64', false, 'fa:64', 64, true, 'read'],
  ['TLB-hit read32, random within 64 pages, 4 KiB, sa:16x4', false, 'sa:16x4', 64, true, 'read'],
  ['TLB-hit read32, random within 64 pages, 4 KiB, dm:64', false, 'dm:64', 64, true, 'read'],
  ['TLB-hit translate only, sequential, 4 KiB, sa:16x4', false, 'sa:16x4', 64, false, 'translate'],
  ['TLB-hit read32, random within 64 pages, 4 MiB pages, fa:64', true, 'fa:64', 64, true, 'read'],
  ['TLB-miss walks: read32, tlb none, random in 16384 pages, 4 KiB', false, 'none', 16384, true, 'read'],
  ['TLB-miss walks: read32, tlb none, random in 16384 pages, 4 MiB', true, 'none', 16384, true, 'read'],
  ['Mostly misses: read32, sa:16x4, random in 16384 pages, 4 KiB', false, 'sa:16x4', 16384, true, 'read'],
  ['PAE TLB-hit read32, random within 64 pages, 4 KiB, sa:16x4', false, 'sa:16x4', 64, true, 'read', 'pae'],
  ['PAE TLB-hit read32, random within 64 pages, 2 MiB pages, fa:64', true, 'fa:64', 64, true, 'read', 'pae'],
  ['PAE TLB-miss walks: read32, tlb none, random in 16384 pages, 4 KiB', false, 'none', 16384, true, 'read', 'pae'],
];
const rates = new BenchTable(`Accesses through the MMU: ${N / 1e6}M per case, best of 5`, [
  { name: 'case', width: 62, left: true },
  { name: 'M accesses/s', width: 12 },
  { name: 'hit rate', width: 8 },
]);
for (const [name, large, tlb, pages, random, kind, paging] of cases) {
  const a = addresses(pages, random);
  const make = paging === 'pae' ? setupPae : setup;
  let best = 0;
  let m = make(large, tlb);
  for (let r = 0; r < 5; r++) {
    m = make(large, tlb);
    best = Math.max(best, kind === 'read' ? timeReads(m, a) : timeTranslate(m, a));
  }
  row(rates, name, best, m);
}
rates.end();

/**
 * timeCreate returns microseconds per machine: created (128 MiB, paging on),
 * and created then given its first TLB fill (one translated read).
 */
function timeCreate(tlb: string, firstFill: boolean): number {
  const n = 200;
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const m = new Machine({ ram: 128 << 20, tlb });
      m.mem.write32(0x1000, 0x2000 | PTE_P | PTE_RW);
      m.mem.write32(0x2000, 0x3000 | PTE_P | PTE_RW);
      m.mmu.writeCr3(0x1000);
      m.mmu.writeCr0(CR0_PE | CR0_PG);
      if (firstFill) m.read32(0x10);
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e3 / n);
  }
  return best;
}

const create = new BenchTable('Machine creation (128 MiB, page tables written, paging on), µs, best of 3 x 200', [
  { name: 'TLB', width: 8, left: true },
  { name: 'created µs', width: 10 },
  { name: '+ first TLB fill µs', width: 19 },
]);
for (const tlb of ['none', 'dm:64', 'fa:64', 'sa:16x4'])
  create.row([tlb, timeCreate(tlb, false).toFixed(0), timeCreate(tlb, true).toFixed(0)]);
create.end();
