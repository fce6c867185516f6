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

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(here, 'out');
const KIB = Number(process.env.REPLAY_KIB ?? 200);
const CONFIGS = ['fa:64', 'dm:64', 'sa:16x4', 'none'];
const ROUNDS = 3; // C and JS alternate, best of all rounds
const REPEAT = 3; // replays per process (best time)
const COUNTERS = ['records', 'hits', 'misses', 'walks', 'demand_faults', 'page_tables', 'frames_used', 'dirty_pages', 'dirty_sets', 'phys_hash'];

type Result = Record<string, number | string>;

// buildC compiles bare.c when the binary is missing or older than the source.
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

// measure runs C and pagelab alternately on one trace and configuration and checks they agree.
function measure(exe: string, t: BenchTrace, tlb: string): { c: Result; js: Result } {
  let c: Result | undefined;
  let js: Result | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    const rc = runJson(exe, ['--tlb', tlb, '--repeat', String(REPEAT), t.bin]);
    const rj = runJson(process.execPath, ['--import', 'tsx', 'src/tools/bin.ts', 'replay', t.bin, '--json', '--tlb', tlb, '--repeat', String(REPEAT)]);
    if (c === undefined || Number(rc.seconds) < Number(c.seconds)) c = rc;
    if (js === undefined || Number(rj.seconds) < Number(js.seconds)) js = rj;
  }
  for (const k of COUNTERS) {
    if (c![k] !== js![k]) throw new Error(`${t.name} ${tlb}: ${k} differs: C ${c![k]}, pagelab ${js![k]}`);
  }
  return { c: c!, js: js! };
}

async function mainBench(): Promise<void> {
  const exe = buildC();
  const traces = await benchTraces(out, KIB);
  const rows: string[] = [];
  const json: unknown[] = [];
  console.log('trace  records      tlb      misses      phys_hash  C Macc/s  pagelab Macc/s  ratio');
  for (const t of traces) {
    for (const tlb of CONFIGS) {
      const { c, js } = measure(exe, t, tlb);
      const ratio = Number(js.maccesses_per_s) / Number(c.maccesses_per_s);
      const row = `${t.name.padEnd(6)} ${String(t.records).padStart(10)}  ${tlb.padEnd(8)} ${String(js.misses).padStart(10)}  ${js.phys_hash}   ${Number(c.maccesses_per_s).toFixed(1).padStart(7)}  ${Number(js.maccesses_per_s).toFixed(1).padStart(14)}  ${ratio.toFixed(2)}`;
      console.log(row);
      rows.push(row);
      json.push({ trace: t.name, command: t.command, tlb, records: t.records, misses: js.misses, phys_hash: js.phys_hash,
        c_maccesses_per_s: c.maccesses_per_s, pagelab_maccesses_per_s: js.maccesses_per_s, ratio });
    }
  }
  writeFileSync(join(out, 'replay.json'), JSON.stringify(json, null, 2) + '\n');
  console.log(`all counters and phys_hash agree between C and pagelab; results in ${join(out, 'replay.json')}`);
}

await mainBench();
