// Large inputs and outputs through real pipes: a 17 MiB capture region in bounded memory, an inspect JSON
// document larger than one string may be, replay --sweep and boot --json complete (issue 14, 1-2).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, FIXTURES, TSX, pagelab, tablesDump, tempDir } from './cli.js';

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

/** pipedOutput runs pagelab with standard output a pipe and hands each chunk (latin1) to `take`; gives the status. */
function pipedOutput(args: string[], take: (chunk: string) => void): Promise<{ status: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.setEncoding('latin1').on('data', take);
    child.stderr.setEncoding('latin1').on('data', (c: string) => (err += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, err }));
  });
}

/** A reader of inspect's JSON that parses it a directory entry at a time (the whole is longer than a string). */
class PdeStream {
  bytes = 0;
  head: { imageSize: number; pdes: unknown[] } | null = null;
  readonly pdes: { index: number; table: { runs: { first: number; count: number }[] } }[] = [];
  private pending = '';
  private closed = false;

  /** take consumes one chunk of the output. */
  take(chunk: string): void {
    this.bytes += chunk.length;
    this.pending += chunk;
    if (this.head === null) {
      const open = this.pending.indexOf('"pdes": [\n');
      if (open < 0) return;
      this.head = JSON.parse(this.pending.slice(0, open + 9) + ']}') as PdeStream['head'];
      this.pending = this.pending.slice(open + 10);
    }
    for (let end = this.pending.indexOf('\n    }'); end >= 0; end = this.pending.indexOf('\n    }')) {
      this.pdes.push(JSON.parse(this.pending.slice(0, end + 6)) as PdeStream['pdes'][number]);
      this.pending = this.pending.slice(end + 6).replace(/^,?\n/, '');
    }
    if (this.pending === '  ]\n}\n') this.closed = true;
  }

  /** complete tells whether the document ended as a JSON document does, after its last entry. */
  get complete(): boolean {
    return this.closed;
  }
}

describe('inspect JSON of 1,024 full page tables', () => {
  it('comes out whole through a pipe (589 MB, longer than one string may be) and parses', async () => {
    const dump = tablesDump(dir, 1024, 0, 8 << 20, 0x178); // PWT, PCD, A, D, G too: longer runs
    const doc = new PdeStream();
    const r = await pipedOutput(['inspect', dump, '--cr3', '0', '--json'], (c) => doc.take(c));
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(doc.complete).toBe(true);
    expect(doc.bytes).toBeGreaterThan(2 ** 29); // more than V8's longest string, 2^29 - 24 characters
    expect(doc.head?.imageSize).toBe(8 << 20);
    expect(doc.pdes.map((p) => p.index)).toEqual([...Array(1024).keys()]);
    for (const p of doc.pdes) {
      expect(p.table.runs.length).toBe(1024);
      expect(p.table.runs.every((run, k) => run.first === k && run.count === 1)).toBe(true);
    }
  }, 120_000);
});
