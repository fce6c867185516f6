// The differential run: split cases into batches, boot QEMU on each batch
// (two at a time by default), run every case on the model too, compare.

import { availableParallelism } from 'node:os';
import { accessCount, type Case } from './case.js';
import { diffOutcomes, type Mismatch } from './compare.js';
import { newMachine, runOnModel, type ModelOptions } from './model.js';
import { runOnQemu } from './qemu.js';
import { validateCase } from './shadow.js';

export interface SuiteOptions {
  /** Cases per QEMU boot. */
  readonly batchSize?: number;
  /** QEMU processes at once. */
  readonly jobs?: number;
  /** Called after each batch with the number of cases done so far. */
  readonly onBatch?: (done: number, total: number) => void;
  /** The model's configuration (default: QEMU's accessed-flag order, a 16x4 TLB). */
  readonly model?: ModelOptions;
}

export interface SuiteResult {
  readonly cases: number;
  readonly accesses: number;
  /** Accesses that faulted on QEMU. */
  readonly faults: number;
  readonly mismatches: readonly Mismatch[];
}

export const DEFAULT_BATCH = 200;

/** compareBatch runs one batch on QEMU and the model and collects the mismatches. */
async function compareBatch(
  batch: readonly Case[],
  model: ModelOptions,
): Promise<{ faults: number; mismatches: Mismatch[] }> {
  const qemu = await runOnQemu(batch);
  let faults = 0;
  const mismatches: Mismatch[] = [];
  const machine = newMachine(model);
  const paeMachine = newMachine({ ...model, pae: true });
  batch.forEach((c, i) => {
    const q = qemu[i];
    faults += q.accesses.filter((a) => a.fault).length;
    const ours = runOnModel(c, c.pae === true ? paeMachine : machine);
    const diffs = diffOutcomes(c, q, ours);
    if (diffs.length > 0) mismatches.push({ c, qemu: q, model: ours, diffs });
  });
  return { faults, mismatches };
}

/** runSuite compares every case; batches run `jobs` at a time. */
export async function runSuite(cases: readonly Case[], options: SuiteOptions = {}): Promise<SuiteResult> {
  for (const c of cases) if (c.pae !== true) validateCase(c); // paecase.ts builds PAE cases valid by construction
  const size = options.batchSize ?? DEFAULT_BATCH;
  const batches: Case[][] = [];
  for (let i = 0; i < cases.length; i += size) batches.push(cases.slice(i, i + size));
  let next = 0;
  let done = 0;
  let faults = 0;
  const mismatches: Mismatch[] = [];
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++];
      const r = await compareBatch(batch, options.model ?? {});
      faults += r.faults;
      mismatches.push(...r.mismatches);
      done += batch.length;
      options.onBatch?.(done, cases.length);
    }
  };
  const jobs = Math.max(1, options.jobs ?? Math.min(2, availableParallelism()));
  await Promise.all(Array.from({ length: Math.min(jobs, batches.length) }, worker));
  const accesses = cases.reduce((n, c) => n + accessCount(c), 0);
  const order = new Map(cases.map((c, i) => [c, i]));
  mismatches.sort((a, b) => order.get(a.c)! - order.get(b.c)!);
  return { cases: cases.length, accesses, faults, mismatches };
}
