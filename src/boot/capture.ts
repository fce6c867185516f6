// The text format of a captured multiboot hand-off (test/fixtures/multiboot/
// CAPTURE.md): what pagelab's kernel printed on QEMU's debug console.
//   # comment
//   R <eax> <ebx>
//   D <addr> <len> <hex bytes>     physical memory before paging
//   C <cr0> <cr3> <cr4>
//   V <addr> <len> <hex bytes>     linear memory after the jump to the higher half

import { ParseError } from '../errors.js';
import { PAGE_SIZE } from '../hw/addr.js';
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

/** parseCapture parses the text; a malformed line is a ParseError naming the line. */
export function parseCapture(text: string, what = 'multiboot capture'): CapturedBoot {
  let regs: { eax: number; ebx: number } | null = null;
  let control: CapturedBoot['control'] = null;
  const physical: CapturedRegion[] = [];
  const linear: CapturedRegion[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trimEnd();
    if (line === '' || line.startsWith('#')) continue;
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
  }
  if (regs === null) throw new ParseError(what, 1, 'an R line with the hand-off registers', 'line');
  const { eax, ebx } = regs;
  return { eax, ebx, physical, control, linear };
}

/** hexField reads field k of a line as a 32-bit hex number. */
function hexField(f: readonly string[], k: number, line: number, what: string): number {
  if (k >= f.length || !HEX32.test(f[k]))
    throw new ParseError(what, line, `a hex number (1-8 digits) in field ${k + 1}`, 'line');
  return parseInt(f[k], 16);
}

/** region reads "<tag> <addr> <len> <hex>": the byte count must match len. */
function region(f: readonly string[], line: number, what: string): CapturedRegion {
  const addr = hexField(f, 1, line, what);
  const len = hexField(f, 2, line, what);
  const hex = f[3] ?? '';
  if (f.length > 4 || hex.length !== len * 2) {
    throw new ParseError(what, line, `exactly ${len} bytes as ${len * 2} hex digits after the length`, 'line');
  }
  if (addr + len > 0x1_0000_0000) throw new ParseError(what, line, 'a region that ends by 4 GiB', 'line');
  return { addr, bytes: decodeHex(hex, line, what) };
}

/** decodeHex turns pairs of hex digits into bytes; a bad digit is a ParseError naming the line and the byte. */
function decodeHex(hex: string, line: number, what: string): Uint8Array {
  const bytes = new Uint8Array(hex.length >>> 1);
  for (let j = 0; j < bytes.length; j++) {
    const hi = hexDigit(hex.charCodeAt(2 * j));
    const lo = hexDigit(hex.charCodeAt(2 * j + 1));
    if (hi < 0 || lo < 0)
      throw new ParseError(
        what,
        line,
        `two hex digits for byte ${j} of the region, got ${hex.slice(2 * j, 2 * j + 2)}`,
        'line',
      );
    bytes[j] = (hi << 4) | lo;
  }
  return bytes;
}

/** hexDigit is the value of one hex digit's character code, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20; // A-F and a-f alike
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** One captured page: its bytes and which of them the capture holds (1) or not (0). */
interface CapturedPage {
  readonly data: Uint8Array;
  readonly have: Uint8Array;
}

/**
 * capturedPages stores the physical regions in page-sized chunks (a later region wins where two overlap), so the
 * memory is about twice the captured bytes whatever the region sizes.
 */
function capturedPages(c: CapturedBoot): Map<number, CapturedPage> {
  const pages = new Map<number, CapturedPage>();
  for (const r of c.physical) {
    for (let j = 0; j < r.bytes.length;) {
      const p = r.addr + j;
      const page = Math.floor(p / PAGE_SIZE);
      const off = p - page * PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, r.bytes.length - j);
      let chunk = pages.get(page);
      if (chunk === undefined) {
        chunk = { data: new Uint8Array(PAGE_SIZE), have: new Uint8Array(PAGE_SIZE) };
        pages.set(page, chunk);
      }
      chunk.data.set(r.bytes.subarray(j, j + n), off);
      chunk.have.fill(1, off, off + n);
      j += n;
    }
  }
  return pages;
}

/** capturedBytes gives the captured physical regions as readable memory (elsewhere: not RAM). */
export function capturedBytes(c: CapturedBoot): PhysicalBytes {
  const pages = capturedPages(c);
  const chunk = (p: number): CapturedPage | undefined => pages.get(Math.floor(p / PAGE_SIZE));
  const isRam = (p: number): boolean => chunk(p)?.have[p % PAGE_SIZE] === 1;
  const read8 = (p: number): number => (isRam(p) ? (chunk(p)?.data[p % PAGE_SIZE] ?? 0xff) : 0xff);
  return {
    read8,
    read32: (p) => (read8(p) | (read8(p + 1) << 8) | (read8(p + 2) << 16) | (read8(p + 3) << 24)) >>> 0,
    isRam,
  };
}
