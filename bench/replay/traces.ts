// Benchmark traces from real programs: valgrind lackey on gzip and sort over
// generated text, streamed from valgrind's log pipe straight into the binary
// form in bench/out/ (cached there; nothing is committed).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { convertTrace } from '../../src/tools/replay/source.js';

export interface BenchTrace {
  name: string;
  command: string;
  bin: string;
  records: number;
}

/** words writes `bytes` of deterministic pseudo-random English-like text (a fixed xorshift generator). */
function words(bytes: number): string {
  const vocab = [
    'page',
    'frame',
    'table',
    'walk',
    'dirty',
    'accessed',
    'the',
    'of',
    'and',
    'kernel',
    'memory',
    'fault',
    'translation',
    'lookaside',
    'buffer',
    'a',
    'to',
    'in',
    'directory',
    'entry',
    'present',
    'user',
    'supervisor',
    'write',
  ];
  let x = 0x9e3779b9;
  const out: string[] = [];
  let n = 0;
  while (n < bytes) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const w = (x >>> 0) % 1000 < 30 ? String((x >>> 8) % 100000) : vocab[(x >>> 0) % vocab.length];
    const sep = (x >>> 0) % 13 === 0 ? '\n' : ' ';
    out.push(w + sep);
    n += w.length + 1;
  }
  return out.join('').slice(0, bytes);
}

/** lackey runs valgrind's lackey on argv and converts its log (fd 3) into `bin`. */
async function lackey(argv: string[], bin: string): Promise<number> {
  const child = spawn('valgrind', ['--tool=lackey', '--trace-mem=yes', '--log-fd=3', ...argv], {
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
  });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const tmp = `${bin}.part`;
  const r = await convertTrace(child.stdio[3] as Readable, tmp);
  const code = await exited;
  if (code !== 0) throw new Error(`valgrind ${argv.join(' ')} exited with ${code}`);
  renameSync(tmp, bin);
  return r.records;
}

/** benchTraces makes (or reuses) the traces: gzip -6 and sort over `kib` KiB of text. */
export async function benchTraces(out: string, kib: number): Promise<BenchTrace[]> {
  if (spawnSync('valgrind', ['--version']).status !== 0)
    throw new Error('valgrind is needed (Debian package valgrind)');
  mkdirSync(out, { recursive: true });
  const text = join(out, `words-${kib}k.txt`);
  if (!existsSync(text)) writeFileSync(text, words(kib * 1024));
  const jobs = [
    { name: 'gzip', argv: ['gzip', '-6', '-c', text] },
    { name: 'sort', argv: ['sort', text] },
  ];
  const traces: BenchTrace[] = [];
  for (const j of jobs) {
    const bin = join(out, `${j.name}-${kib}k.bin`);
    if (!existsSync(bin)) {
      process.stdout.write(`tracing ${j.argv.join(' ')} with valgrind lackey ...\n`);
      await lackey(j.argv, bin);
    }
    traces.push({
      name: j.name,
      command: `${j.argv[0]} ${j.argv.slice(1, -1).join(' ')} (${kib} KiB of text)`.replace('  ', ' '),
      bin,
      records: statSync(bin).size / 10,
    });
  }
  return traces;
}
