// Shrinking a mismatching case to a minimal reproducer: repeatedly drop one
// op or one initial entry while QEMU and the model still disagree. Every
// candidate of a round runs in one QEMU boot.

import type { Case } from './case.js';
import { diffOutcomes, type Mismatch } from './compare.js';
import { newMachine, runOnModel, type ModelOptions } from './model.js';
import { runOnQemu } from './qemu.js';
import { validateCase } from './shadow.js';

const MAX_ROUNDS = 40;

/** candidates lists the valid cases with one op or one entry fewer. */
function candidates(c: Case): Case[] {
  const out: Case[] = [];
  c.ops.forEach((_, i) => out.push({ ...c, ops: c.ops.filter((__, k) => k !== i) }));
  c.entries.forEach((_, i) => out.push({ ...c, entries: c.entries.filter((__, k) => k !== i) }));
  return out.filter((x) => {
    try {
      validateCase(x);
      return x.ops.some((op) => op.op === 'access');
    } catch {
      return false;
    }
  });
}

/** shrink returns the smallest still-mismatching case it finds, starting from m. */
export async function shrink(m: Mismatch, model: ModelOptions = {}): Promise<Mismatch> {
  let best = m;
  const machine = newMachine(model);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const cands = candidates(best.c).map((c) => ({ ...c, name: `${m.c.name} (shrunk)` }));
    if (cands.length === 0) break;
    const qemu = await runOnQemu(cands);
    const found = cands.findIndex((c, i) => diffOutcomes(c, qemu[i], runOnModel(c, machine)).length > 0);
    if (found < 0) break;
    const c = cands[found];
    const model = runOnModel(c, machine);
    best = { c, qemu: qemu[found], model, diffs: diffOutcomes(c, qemu[found], model) };
  }
  return best;
}
