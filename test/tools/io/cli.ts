// Running the real pagelab executable from the io tests: to a pipe, to a file, through a shell pipeline.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = new URL('../../../src/tools/bin.ts', import.meta.url).pathname;
export const TSX = new URL('../../../node_modules/tsx/dist/esm/index.mjs', import.meta.url).pathname;
export const FIXTURES = new URL('../../fixtures/', import.meta.url).pathname;

export interface Run {
  readonly status: number | null;
  readonly out: string;
  readonly err: string;
}

/** pagelab runs the command line, standard input from `input` (a string) or nothing, output captured. */
export function pagelab(args: string[], input?: string | Buffer, nodeFlags: string[] = []): Run {
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', TSX, BIN, ...args], {
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    encoding: 'latin1',
    maxBuffer: 1 << 30,
    timeout: 60_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** shell runs a bash command line in which `PAGELAB` is the executable. */
export function shell(script: string): Run {
  const r = spawnSync('bash', ['-c', script], {
    env: { ...process.env, PAGELAB: `${process.execPath} --import ${TSX} ${BIN}`, NO_COLOR: '1' },
    encoding: 'latin1',
    maxBuffer: 1 << 30,
    timeout: 60_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** tempDir makes a fresh directory for one test's files. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pagelab-io-'));
}

/**
 * tablesDump writes a memory image whose page directory at 0 has `tables` full page tables (at 0x1000, 0x2000, ...)
 * mapping every other frame (so no two pages merge into one run), and `pastEnd` further PDEs naming tables past
 * the image's end; `extraFlags` are set in every PTE. Returns its path.
 */
export function tablesDump(dir: string, tables: number, pastEnd = 0, size = 8 << 20, extraFlags = 0): string {
  const img = Buffer.alloc(size);
  for (let t = 0; t < tables; t++) {
    img.writeUInt32LE(((t + 1) * 0x1000) | 0x7, t * 4);
    for (let e = 0; e < 1024; e++)
      img.writeUInt32LE(
        (((t * 1024 + e) * 0x2000) | (e % 2 === 0 ? 0x7 : 0x5) | extraFlags) >>> 0,
        (t + 1) * 0x1000 + e * 4,
      );
  }
  for (let p = tables; p < tables + pastEnd; p++) img.writeUInt32LE((0x80000000 + p * 0x1000 + 0x7) >>> 0, p * 4);
  const path = join(dir, `tables${tables}-${pastEnd}-${extraFlags.toString(16)}.img`);
  writeFileSync(path, img);
  return path;
}

/** A child that reads its standard input slowly (small reads with pauses) and copies it to standard output. */
export const SLOW_READER =
  `${process.execPath} -e "const fs=require('fs');const b=Buffer.alloc(4096);` +
  `function step(){let n;try{n=fs.readSync(0,b,0,b.length,null)}catch(e){if(e.code==='EAGAIN')` +
  `return setTimeout(step,5);throw e}if(n===0)return;fs.writeSync(1,b,0,n);setTimeout(step,1)}step()"`;
