// Running batches on QEMU: build the test kernel with nasm and ld (into
// test/conformance/build/), boot it with qemu-system-i386 -kernel (TCG) and
// the batch as its multiboot module, and parse what it wrote to debugcon.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PagelabError } from '../../src/errors.js';
import { QEMU_CPU, QEMU_CPU_PAE, QEMU_RAM_MIB, encodeBatch, type Case, type CaseOutcome } from './case.js';
import { KernelFatal, parseResults } from './results.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const KERNEL_SRC = join(HERE, 'kernel', 'kernel.asm');
const LINKER_SCRIPT = join(HERE, 'kernel', 'kernel.ld');
export const BUILD_DIR = join(HERE, 'build');
export const KERNEL_ELF = join(BUILD_DIR, 'kernel.elf');
/** isa-debug-exit turns the kernel's 0x10 into exit status 33 (success), 0x11 into 35. */
const EXIT_OK = 33;
const BOOT_TIMEOUT_MS = 120_000;
export const INSTALL_HINT = 'apt-get install -y --no-install-recommends qemu-system-x86 nasm binutils';

/** missingTools names the programs the QEMU side needs that are not on PATH. */
export function missingTools(): string[] {
  return ['qemu-system-i386', 'nasm', 'ld'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
}

/** buildKernel assembles and links the paging test kernel unless the ELF is newer than its sources. */
export function buildKernel(): string {
  return buildElf(KERNEL_SRC, LINKER_SCRIPT, KERNEL_ELF);
}

/** buildElf assembles `src` with nasm and links it with `ld` script `script` into `elf`, unless it is up to date. */
export function buildElf(src: string, script: string, elf: string): string {
  const newest = Math.max(statSync(src).mtimeMs, statSync(script).mtimeMs);
  try {
    if (statSync(elf).mtimeMs > newest) return elf;
  } catch {
    // not built yet
  }
  mkdirSync(dirname(elf), { recursive: true });
  const obj = `${elf}.${process.pid}.o`;
  const tmpElf = `${elf}.${process.pid}.tmp`;
  execFileSync('nasm', ['-f', 'elf32', '-o', obj, src], { stdio: 'pipe' });
  execFileSync('ld', ['-m', 'elf_i386', '-T', script, '-o', tmpElf, obj], { stdio: 'pipe' });
  execFileSync('mv', ['-f', tmpElf, elf]);
  rmSync(obj, { force: true });
  return elf;
}

/** qemuArgs is the command line for one boot. */
function qemuArgs(kernel: string, module: string, out: string, ramMiB = QEMU_RAM_MIB, cpu = QEMU_CPU): string[] {
  return [
    '-kernel',
    kernel,
    '-initrd',
    module,
    '-m',
    String(ramMiB),
    '-accel',
    'tcg',
    '-cpu',
    cpu,
    '-display',
    'none',
    '-no-reboot',
    '-serial',
    'none',
    '-monitor',
    'none',
    '-parallel',
    'none',
    '-debugcon',
    `file:${out}`,
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=0x04',
  ];
}

/** boot runs QEMU once and resolves with its exit status and stderr. */
function boot(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-i386', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), BOOT_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

/**
 * bootWithModule boots `kernel` once with `module`'s bytes as its multiboot module and returns what it wrote to
 * debugcon, throwing QEMU's own words unless it exited through isa-debug-exit with the success code. `cpu` is
 * QEMU's -cpu (the paging suite's by default).
 */
export async function bootWithModule(
  kernel: string,
  module: Uint8Array,
  ramMiB: number,
  cpu: string = QEMU_CPU,
): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'pagelab-conf-'));
  try {
    const mod = join(dir, 'batch.bin');
    const out = join(dir, 'out.bin');
    writeFileSync(mod, module);
    const { status, stderr } = await boot(qemuArgs(kernel, mod, out, ramMiB, cpu));
    const bytes = existsSync(out) ? new Uint8Array(readFileSync(out)) : new Uint8Array(0);
    if (status !== EXIT_OK)
      throw new PagelabError(
        `qemu-system-i386 exited with status ${status}: ${stderr.trim()} (${bytes.length} bytes out)`,
      );
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** runOnQemu boots the kernel once with a batch and returns one outcome per case. */
export async function runOnQemu(cases: readonly Case[]): Promise<CaseOutcome[]> {
  const kernel = buildKernel();
  const dir = mkdtempSync(join(tmpdir(), 'pagelab-conf-'));
  try {
    const module = join(dir, 'batch.bin');
    const out = join(dir, 'out.bin');
    const batch = encodeBatch(cases);
    if (batch.length > 0x280000)
      throw new PagelabError(`batch of ${cases.length} cases is ${batch.length} bytes: split it (limit 2.5 MiB)`);
    writeFileSync(module, batch);
    const cpu = cases.some((c) => c.pae === true) ? QEMU_CPU_PAE : QEMU_CPU;
    const { status, stderr } = await boot(qemuArgs(kernel, module, out, QEMU_RAM_MIB, cpu));
    const bytes = existsSync(out) ? new Uint8Array(readFileSync(out)) : new Uint8Array(0);
    const failed = (): PagelabError =>
      new PagelabError(`qemu-system-i386 exited with status ${status}: ${stderr.trim()}`);
    let outcomes: CaseOutcome[];
    try {
      outcomes = parseResults(bytes, cases);
    } catch (e) {
      // A fatal record from the kernel explains a bad exit best; else QEMU's own words.
      if (e instanceof KernelFatal || status === EXIT_OK) throw e;
      throw failed();
    }
    if (status !== EXIT_OK) throw failed();
    return outcomes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
