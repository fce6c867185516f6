// Large inputs and outputs through real pipes: a 17 MiB capture region in bounded memory, an inspect JSON
// document larger than one string may be, replay --sweep and boot --json complete (issue 14, 1-2).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, pagelab, tempDir } from './cli.js';

/** Node flags that cap the heap: one Map entry per captured byte (the old store) dies under it. */
const SMALL_HEAP = ['--max-old-space-size=200'];
const REGION_BASE = 0x200000;
const REGION_SIZE = 17 << 20;

let dir = '';
beforeAll(() => {
  dir = tempDir();
});

/** patternByte is byte j of the generated region: differs between neighbours and between pages. */
function patternByte(j: number): number {
  return (j * 7 + (j >> 12)) & 0xff;
}

/** bigCapture is a real QEMU capture with one more `D` line: REGION_SIZE bytes at REGION_BASE. */
function bigCapture(base = REGION_BASE, size = REGION_SIZE): Buffer {
  const bytes = Buffer.alloc(size);
  for (let j = 0; j < size; j++) bytes[j] = patternByte(j);
  const head = readFileSync(join(FIXTURES, 'multiboot', 'qemu-m128.txt'));
  const line = `D ${base.toString(16).padStart(8, '0')} ${size.toString(16).padStart(8, '0')} ${bytes.toString('hex')}\n`;
  return Buffer.concat([head, Buffer.from(line, 'latin1')]);
}

describe('a capture with a 17 MiB region', () => {
  it('boots from a pipe in a 200 MB heap and its bytes are in RAM', () => {
    const img = join(dir, 'big.img');
    const r = pagelab(['boot', '--multiboot', '-', '--quiet', '--dump', img], bigCapture(), SMALL_HEAP);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    const ram = readFileSync(img);
    rmSync(img);
    let wrong = 0;
    for (let j = 0; j < REGION_SIZE; j++) if (ram[REGION_BASE + j] !== patternByte(j)) wrong++;
    expect(wrong).toBe(0);
  });

  it('a region past the captured RAM is refused by name', () => {
    const path = join(dir, 'far.txt');
    writeFileSync(path, bigCapture(0x07ff0000, 0x20000));
    const r = pagelab(['boot', '--multiboot', path]);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/^pagelab: the captured multiboot data at 0x07FF0000\+131072 lies outside the machine's RAM/);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  });
});
