// The text format of a captured multiboot hand-off (test/fixtures/multiboot/
// CAPTURE.md): what pagelab's kernel printed on QEMU's debug console.
//   # comment
//   R <eax> <ebx>
//   D <addr> <len> <hex bytes>     physical memory before paging
//   C <cr0> <cr3> <cr4>
//   V <addr> <len> <hex bytes>     linear memory after the jump to the higher half

import { ParseError } from '../errors.js';
import type { PhysicalBytes } from './multiboot.js';

export interface CapturedRegion {
  readonly addr: number;
  readonly bytes: Uint8Array;
}

export interface CapturedBoot {
  readonly eax: number;
  readonly ebx: number;
  readonly physical: readonly CapturedRegion[];
  readonly control: { readonly cr0: number; readonly cr3: number; readonly cr4: number } | null;
  readonly linear: readonly CapturedRegion[];
}

const HEX32 = /^[0-9a-fA-F]{1,8}$/;
const HEXBYTES = /^(?:[0-9a-fA-F]{2})*$/;

/** parseCapture parses the text; a malformed line is a ParseError naming the line. */
export function parseCapture(text: string, what = 'multiboot capture'): CapturedBoot {
  let regs: { eax: number; ebx: number } | null = null;
  let control: CapturedBoot['control'] = null;
  const physical: CapturedRegion[] = [];
  const linear: CapturedRegion[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) return;
    const f = line.split(' ');
    const n = i + 1;
    if (f[0] === 'R') regs = { eax: hexField(f, 1, n, what), ebx: hexField(f, 2, n, what) };
    else if (f[0] === 'C')
      control = { cr0: hexField(f, 1, n, what), cr3: hexField(f, 2, n, what), cr4: hexField(f, 3, n, what) };
    else if (f[0] === 'D' || f[0] === 'V') (f[0] === 'D' ? physical : linear).push(region(f, n, what));
    else
      throw new ParseError(
        what,
        n,
        `a line starting with R, D, C, V or #, got ${JSON.stringify(line.slice(0, 20))}`,
        'line',
      );
  });
  if (regs === null) throw new ParseError(what, 1, 'an R line with the hand-off registers', 'line');
  const { eax, ebx } = regs;
  return { eax, ebx, physical, control, linear };
}

/** hexField reads field k of a line as a 32-bit hex number. */
function hexField(f: readonly string[], k: number, line: number, what: string): number {
  const s = f[k];
  if (s === undefined || !HEX32.test(s))
    throw new ParseError(what, line, `a hex number (1-8 digits) in field ${k + 1}`, 'line');
  return parseInt(s, 16);
}

/** region reads "<tag> <addr> <len> <hex>": the byte count must match len. */
function region(f: readonly string[], line: number, what: string): CapturedRegion {
  const addr = hexField(f, 1, line, what);
  const len = hexField(f, 2, line, what);
  const hex = f[3] ?? '';
  if (f.length > 4 || !HEXBYTES.test(hex) || hex.length !== len * 2) {
    throw new ParseError(what, line, `exactly ${len} bytes as ${len * 2} hex digits after the length`, 'line');
  }
  if (addr + len > 0x1_0000_0000) throw new ParseError(what, line, 'a region that ends by 4 GiB', 'line');
  const bytes = new Uint8Array(len);
  for (let j = 0; j < len; j++) bytes[j] = parseInt(hex.slice(2 * j, 2 * j + 2), 16);
  return { addr, bytes };
}

/** capturedBytes gives the captured physical regions as readable memory (elsewhere: not RAM). */
export function capturedBytes(c: CapturedBoot): PhysicalBytes {
  const bytes = new Map<number, number>();
  for (const r of c.physical) r.bytes.forEach((b, j) => bytes.set(r.addr + j, b));
  const read8 = (p: number): number => bytes.get(p) ?? 0xff;
  return {
    read8,
    read32: (p) => (read8(p) | (read8(p + 1) << 8) | (read8(p + 2) << 16) | (read8(p + 3) << 24)) >>> 0,
    isRam: (p) => bytes.has(p),
  };
}
