// `pagelab run` beside `pagelab replay` on the same logs (test/programs' logs; compute is a sieve: fork-free, fits
// in RAM): records per second of the process kernel's path (CPL 3 through the kernel's page tables, real memory
// reads and writes, demand paging, system calls) against the bare replay model (translation only), same
// sa:16x4 TLB, best of several runs each. "marginal" is compute's records past the glibc start-up it shares
// with fault.null (the same program's first 59 k records), over the time they add: the steady loop, without
// exec and the first touches.
// Run: npm run bench -- run   (RUN_ROUNDS=N for more rounds)
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTrace } from '../src/tools/replay/source.js';
import { replay } from '../src/tools/replay/replay.js';
import { runLogs } from '../src/tools/run/run.js';
import { BenchTable } from './table.js';

const here = dirname(fileURLToPath(import.meta.url));
const logs = join(here, '..', 'test', 'programs', 'logs');
const ROUNDS = Number(process.env.RUN_ROUNDS ?? 20); // best of: the first runs are JIT warm-up
const NAMES = ['compute', 'fault.null', 'malloc', 'stack'];

const fileOf = (name: string): string =>
  join(
    logs,
    readdirSync(logs).find((f) => f.startsWith(name + '.'))!,
  );
const mrate = (records: number, seconds: number): string => (records / seconds / 1e6).toFixed(1);

const best = new Map<string, { seconds: number; records: number; pageIns: number }>();
for (let i = 0; i < ROUNDS; i++) {
  for (const name of NAMES) {
    const r = await runLogs([fileOf(name)], { tlb: 'sa:16x4' });
    const b = best.get(name);
    if (b === undefined || r.seconds < b.seconds)
      best.set(name, { seconds: r.seconds, records: r.json.totals.accesses, pageIns: r.json.totals.pageIns });
  }
}
const table = new BenchTable(`\`run\` beside \`replay\` on one log, TLB sa:16x4, best of ${ROUNDS} each`, [
  { name: 'log', width: 22, left: true },
  { name: 'records', width: 8 },
  { name: 'page-ins', width: 8 },
  { name: 'run M records/s', width: 15 },
  { name: 'replay M records/s', width: 18 },
  { name: 'run / replay', width: 12 },
]);
const replayRate = new Map<string, number>();
for (const name of NAMES) {
  const trace = await readTrace(fileOf(name));
  const r = replay(trace, { tlb: 'sa:16x4', repeat: ROUNDS });
  const run = best.get(name)!;
  replayRate.set(name, trace.length / r.seconds);
  const ratio = run.records / run.seconds / (trace.length / r.seconds);
  table.row([
    name,
    String(run.records),
    String(run.pageIns),
    mrate(run.records, run.seconds),
    mrate(trace.length, r.seconds),
    ratio.toFixed(3),
  ]);
}
const c = best.get('compute')!;
const n = best.get('fault.null')!;
const marginal = (c.records - n.records) / (c.seconds - n.seconds);
const cr = replayRate.get('compute')!;
table.row([
  'compute, marginal',
  String(c.records - n.records),
  String(c.pageIns - n.pageIns),
  mrate(marginal, 1),
  mrate(cr, 1),
  (marginal / cr).toFixed(3),
]);
table.note(
  'Each run is timed from the first exec to the last exit (boot and log reading excluded). "marginal" is ' +
    "compute's records past the glibc start-up it shares with fault.null, over the time they add: the steady loop.",
);
table.end();
