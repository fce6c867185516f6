// The QEMU-captured fixtures (test/fixtures/inspect/layoutN, made by capture.ts).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/inspect');
export const LAYOUTS = [1, 2, 3, 4] as const;

export interface Capture {
  readonly dump: string;
  readonly registers: string;
  /** QEMU's monitor text exactly as captured (CR LF line ends). */
  readonly infoMem: string;
  readonly infoTlb: string;
}

/** capture names the files of one layout and reads QEMU's text. */
export function capture(layout: number): Capture {
  const dir = join(FIXTURES, `layout${layout}`);
  return {
    dump: join(dir, 'dump.bin.gz'),
    registers: join(dir, 'registers.txt'),
    infoMem: readFileSync(join(dir, 'info-mem.txt'), 'latin1'),
    infoTlb: readFileSync(join(dir, 'info-tlb.txt'), 'latin1'),
  };
}
