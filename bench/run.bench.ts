// `pagelab run` beside `pagelab replay` on the same log (test/programs' logs; compute is a sieve: fork-free, fits
// in RAM): records per second of the process kernel's path (CPL 3 through the kernel's page tables, real memory
// reads and writes, demand paging, system calls) against the bare replay model (translation only), same
// sa:16x4 TLB, best of several runs each.
// Run: npm run bench -- run   (RUN_ROUNDS=N for more rounds)
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTrace } from '../src/tools/replay/source.js';
import { replay } from '../src/tools/replay/replay.js';
import { runLogs } from '../src/tools/run/run.js';

const here = dirname(fileURLToPath(import.meta.url));
const logs = join(here, '..', 'test', 'programs', 'logs');
const ROUNDS = Number(process.env.RUN_ROUNDS ?? 12); // best of: the first runs are JIT warm-up

/** bestRun is the fastest of ROUNDS runs of a log (seconds) and its record count. */
async function bestRun(file: string): Promise<{ seconds: number; records: number }> {
  let seconds = Infinity;
  let records = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const r = await runLogs([file], { tlb: 'sa:16x4' });
    seconds = Math.min(seconds, r.seconds);
    records = r.json.totals.accesses;
  }
  return { seconds, records };
}

const fileOf = (name: string): string =>
  join(
    logs,
    readdirSync(logs).find((f) => f.startsWith(name + '.'))!,
  );
const rate = (records: number, seconds: number): string => `${(records / seconds / 1e6).toFixed(2)} M records/s`;
for (const name of ['compute', 'malloc', 'stack']) {
  const trace = await readTrace(fileOf(name));
  const r = replay(trace, { tlb: 'sa:16x4', repeat: ROUNDS });
  const run = await bestRun(fileOf(name));
  console.log(
    `${name}: ${run.records} records; run ${rate(run.records, run.seconds)} (${(run.seconds * 1000).toFixed(1)} ms),` +
      ` replay ${rate(trace.length, r.seconds)} (${(r.seconds * 1000).toFixed(1)} ms);` +
      ` run/replay = ${(run.records / run.seconds / (trace.length / r.seconds)).toFixed(3)}`,
  );
}
