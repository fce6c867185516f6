// Trace replay: pagelab's bare model (the machine's MMU and TLB) against an
// independent C implementation (bench/replay/bare.c, cc -O2) on lackey traces
// of real programs, same traces, same run. Checks that every counter and
// phys_hash agree, and prints accesses per second and the ratio.
// Run: npm run bench -- replay   (REPLAY_KIB=N for a different text size)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchTraces, type BenchTrace } from './replay/traces.js';
import { BenchTable } from './table.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(here, 'out');
const KIB = Number(process.env.REPLAY_KIB ?? 200);
const CONFIGS = ['fa:64', 'dm:64', 'sa:16x4', 'none'];
const ROUNDS = 3; // C and JS alternate, best of all rounds
/**
 * Replays per process (best time), the same for C and pagelab: enough for V8
 * to finish optimizing the replay loop, which a short trace otherwise hides.
 */
const repeatFor = (tlb: string): number => (tlb === 'none' ? 3 : 10);
const COUNTERS = [
  'records',
  'hits',
  'misses',
  'walks',
  'demand_faults',
  'page_tables',
  'frames_used',
  'dirty_pages',
  'dirty_sets',
  'phys_hash',
];

type Result = Record<string, number | string>;

/** buildC compiles bare.c when the binary is missing or older than the source. */
function buildC(): string {
  const src = join(here, 'replay', 'bare.c');
  const exe = join(out, 'bare');
  mkdirSync(out, { recursive: true });
  if (!existsSync(exe) || statSync(exe).mtimeMs < statSync(src).mtimeMs) {
    const r = spawnSync('cc', ['-O2', '-Wall', '-o', exe, src], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('cc failed');
  }
  return exe;
}

function runJson(cmd: string, args: string[]): Result {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: root, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Result;
}

/** best keeps the smaller wall and CPU times of two runs (counters are equal). */
function best(a: Result | undefined, b: Result): Result {
  if (a === undefined) return b;
  const wall = Number(a.seconds) <= Number(b.seconds) ? a : b;
  return { ...wall, cpu_seconds: Math.min(Number(a.cpu_seconds), Number(b.cpu_seconds)) };
}

const rate = (r: Result, key: 'seconds' | 'cpu_seconds'): number => Number(r.records) / Number(r[key]) / 1e6;

/** measure runs C and pagelab alternately on one trace and configuration and checks they agree. */
function measure(exe: string, t: BenchTrace, tlb: string): { c: Result; js: Result } {
  let c: Result | undefined;
  let js: Result | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    const repeat = String(repeatFor(tlb));
    const rc = runJson(exe, ['--tlb', tlb, '--repeat', repeat, t.bin]);
    const rj = runJson(process.execPath, [
      '--import',
      'tsx',
      'src/tools/bin.ts',
      'replay',
      t.bin,
      '--json',
      '--tlb',
      tlb,
      '--repeat',
      repeat,
    ]);
    c = best(c, rc);
    js = best(js, rj);
  }
  for (const k of COUNTERS) {
    if (c![k] !== js![k]) throw new Error(`${t.name} ${tlb}: ${k} differs: C ${c![k]}, pagelab ${js![k]}`);
  }
  return { c: c!, js: js! };
}

async function mainBench(): Promise<void> {
  const exe = buildC();
  const traces = await benchTraces(out, KIB);
  const json: unknown[] = [];
  const table = new BenchTable(
    'Trace replay beside the C implementation (bench/replay/bare.c); Macc/s = million accesses per second, wall (CPU)',
    [
      { name: 'trace', width: 5, left: true },
      { name: 'records', width: 10 },
      { name: 'tlb', width: 8, left: true },
      { name: 'misses', width: 9 },
      { name: 'phys_hash', width: 10 },
      { name: 'C Macc/s', width: 11 },
      { name: 'pagelab Macc/s', width: 14 },
      { name: 'ratio pagelab/C (cpu)', width: 21 },
    ],
  );
  for (const t of traces) {
    for (const tlb of CONFIGS) {
      const { c, js } = measure(exe, t, tlb);
      const ratio = rate(js, 'seconds') / rate(c, 'seconds');
      const cpuRatio = rate(js, 'cpu_seconds') / rate(c, 'cpu_seconds');
      const both = (r: Result): string => `${rate(r, 'seconds').toFixed(0)} (${rate(r, 'cpu_seconds').toFixed(0)})`;
      table.row([
        t.name,
        String(t.records),
        tlb,
        String(js.misses),
        String(js.phys_hash),
        both(c),
        both(js),
        `${ratio.toFixed(2)} (${cpuRatio.toFixed(2)})`,
      ]);
      json.push({
        trace: t.name,
        command: t.command,
        tlb,
        records: t.records,
        misses: js.misses,
        phys_hash: js.phys_hash,
        c_maccesses_per_s: rate(c, 'seconds'),
        pagelab_maccesses_per_s: rate(js, 'seconds'),
        ratio,
        c_cpu_maccesses_per_s: rate(c, 'cpu_seconds'),
        pagelab_cpu_maccesses_per_s: rate(js, 'cpu_seconds'),
        cpu_ratio: cpuRatio,
      });
    }
  }
  writeFileSync(join(out, 'replay.json'), JSON.stringify(json, null, 2) + '\n');
  table.note('all counters and phys_hash agree between C and pagelab');
  table.end();
  console.log(`results in ${join(out, 'replay.json')}`);
}

await mainBench();
