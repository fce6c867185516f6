// The QEMU captures in test/fixtures/multiboot (see CAPTURE.md) and the setup they were taken with.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCapture, type CapturedBoot } from '../../src/boot/capture.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, '..', 'fixtures', 'multiboot');
export const ROOT = join(here, '..', '..');
export const DEFAULT_KERNEL = join(ROOT, 'kernel', 'pagelab-kernel.elf');

export interface QemuFixture {
  readonly file: string;
  readonly megabytes: number;
  readonly pse: boolean;
  /** The kernel's file name, the first word of the command line QEMU passes. */
  readonly kernelName: string;
  readonly capture: CapturedBoot;
}

/** What capture.sh passed to QEMU (after the kernel's file name). */
export const CAPTURE_APPEND = 'root=/dev/pagelab quiet';
export const CAPTURE_MODULES = [
  { cmdline: 'mod1.bin one two', bytes: new TextEncoder().encode('first module\n') },
  { cmdline: 'mod2.bin', bytes: new TextEncoder().encode('the second module, a little longer\n') },
];

/** loadFixture reads and parses one capture. */
export function loadFixture(file: string, megabytes: number, pse: boolean): QemuFixture {
  return {
    file,
    megabytes,
    pse,
    kernelName: pse ? 'kernel-pse.elf' : 'kernel.elf',
    capture: parseCapture(readFileSync(join(FIXTURES, file), 'latin1'), file),
  };
}

export const FIXTURE_FILES: readonly [string, number, boolean][] = [
  ['qemu-m32.txt', 32, false],
  ['qemu-m128.txt', 128, false],
  ['qemu-m3584.txt', 3584, false],
  ['qemu-m128-pse.txt', 128, true],
];

/** allFixtures loads every capture. */
export function allFixtures(): QemuFixture[] {
  return FIXTURE_FILES.map(([f, m, p]) => loadFixture(f, m, p));
}

/** defaultKernelBytes reads the committed kernel. */
export function defaultKernelBytes(): Uint8Array {
  return new Uint8Array(readFileSync(DEFAULT_KERNEL));
}
