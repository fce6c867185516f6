// The process kernel's access path: user reads and writes per second through
// ProcessKernel.access() on TLB hits (64 pages, random), beside the machine's
// own read32 on the same pages; and demand-zero faults per second (first
// touches of fresh pages, each one fault, one zeroed frame, one PTE).
// Run: npm run bench -- procaccess
import { ACCESS_READ, ACCESS_WRITE } from '../src/hw/fault.js';
import { kernelInit } from '../src/kernel/main.js';
import { PROT_READ, PROT_WRITE } from '../src/kernel/proc/api.js';
import { createProcessKernel } from '../src/kernel/proc/proc.js';
import { fakeBoot } from '../test/kernel/fakeboot.js';
import { sampleElf, STACK_TOP } from '../test/kernel/proc/helpers.js';
import { BenchTable } from './table.js';

const N = Number(process.env.PROC_N ?? 10_000_000);
const READ = ACCESS_READ;
const WRITE = ACCESS_WRITE;
const MAP = 0x40000000;

const info = fakeBoot({ ram: 128 << 20, tlb: 'sa:64x4' });
const kernel = kernelInit(info);
const pk = createProcessKernel(kernel);
const { pid } = pk.exec(sampleElf(), ['bench'], [], { stackTop: STACK_TOP });
pk.switchTo(pid);
pk.mmap2(pid, MAP, 64 << 20, PROT_READ | PROT_WRITE);
const addrs = new Uint32Array(N);
let x = 0x12345678;
for (let i = 0; i < N; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  addrs[i] = MAP + ((x >>> 0) % 64) * 4096 + ((x >>> 8) & 0xffc);
}
for (let p = 0; p < 64; p++) pk.access(pid, MAP + p * 4096, 4, WRITE, p);

/** rate runs fn over the addresses; accesses per second. */
function rate(fn: (a: number, i: number) => number): number {
  let sum = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) sum = (sum + fn(addrs[i], i)) | 0;
  const s = (performance.now() - t0) / 1000;
  if (sum === 0x7fffffff) console.log('(checksum)'); // keeps the loop's reads alive
  return N / s;
}

const m = info.machine;
const table = new BenchTable(`The process kernel's access path: ${N / 1e6}M accesses per case, best of 2`, [
  { name: 'case', width: 72, left: true },
  { name: 'rate', width: 10 },
]);
const cases: [string, (a: number, i: number) => number][] = [
  ['`access()` read, TLB hits (64 pages, random), sa:64x4', (a) => pk.access(pid, a, 4, READ)],
  ['`access()` write, TLB hits (64 pages, random)', (a, i) => pk.access(pid, a, 4, WRITE, i)],
  ['`machine.read32` at CPL 3, same pages (no kernel around it)', (a) => m.read32(a)],
];
for (const [name, fn] of cases) table.row([name, `${(Math.max(rate(fn), rate(fn)) / 1e6).toFixed(1)} M/s`]);
const pages = 8192;
const WARM = 4096; // first touches before the timed ones, so that the fault path is compiled
for (let p = 64; p < 64 + WARM; p++) pk.access(pid, MAP + p * 4096, 4, WRITE, p);
const t0 = performance.now();
for (let p = 64 + WARM; p < 64 + WARM + pages; p++) pk.access(pid, MAP + p * 4096, 4, WRITE, p);
const s = (performance.now() - t0) / 1000;
table.row([
  `demand-zero faults (first touches of ${pages} pages, after ${WARM} untimed)`,
  `${(pages / s / 1e3).toFixed(1)} k/s`,
]);
pk.exit(pid, 0);
const f = pk.frames();
table.note(
  `A demand-zero fault: ${((s * 1e6) / pages).toFixed(1)} µs (a zeroed frame, a PTE, the region list walked in RAM). ` +
    `Frames free before the process ${f.freeBefore}, after its exit ${f.freeNow}.`,
);
table.end();
