// Comparing QEMU's outcome of a case with the model's, and printing a
// mismatch as a reproducer: the case itself, then each difference.

import { hex } from '../../src/hw/addr.js';
import { ACCESS_NAMES } from '../../src/hw/fault.js';
import { describeErrorCode, flagNames } from '../../src/hw/paging.js';
import { reportAddrs, type AccessOutcome, type Case, type CaseOutcome, type Op } from './case.js';

/** A case on which QEMU and the model disagree. */
export interface Mismatch {
  readonly c: Case;
  readonly qemu: CaseOutcome;
  readonly model: CaseOutcome;
  readonly diffs: readonly string[];
}

/** formatOutcome is one access outcome in words. */
export function formatOutcome(o: AccessOutcome): string {
  return o.fault
    ? `#PF CR2=${hex(o.cr2)} error=${hex(o.code, 1)} (${describeErrorCode(o.code)})`
    : `ok value=${hex(o.value)}`;
}

/** formatOp is one operation in words. */
export function formatOp(op: Op): string {
  switch (op.op) {
    case 'access': {
      const what =
        op.kind === 1
          ? ` value=${hex(op.value, op.size * 2)}`
          : op.discard === true
            ? ' (value not reported: no RAM)'
            : '';
      return `${ACCESS_NAMES[op.kind]} ${op.size} at ${hex(op.lin)} CPL ${op.cpl}${what}`;
    }
    case 'edit':
      return `edit [${hex(op.addr)}] = ${hex(op.value)} (${entryFlags(op.value)})`;
    case 'invlpg':
      return `invlpg ${hex(op.lin)}`;
    case 'reload-cr3':
      return 'reload CR3';
    case 'set-wp':
      return `CR0.WP = ${op.on ? 1 : 0}`;
    case 'load-cr3':
      return `load CR3 = ${hex(op.cr3)}`;
    case 'set-cr4':
      return `CR4.PSE = ${op.pse ? 1 : 0}, CR4.PGE = ${op.pge ? 1 : 0}`;
  }
}

/** entryFlags names an entry's set flags (PDE reading of bit 7). */
function entryFlags(v: number): string {
  return flagNames(v, true).join('|') || '-';
}

/** sameOutcome compares two access outcomes exactly. */
function sameOutcome(q: AccessOutcome, m: AccessOutcome): boolean {
  if (q.fault || m.fault) return q.fault && m.fault && q.cr2 === m.cr2 && q.code === m.code;
  return q.value === m.value;
}

/** diffOutcomes lists every difference, naming the access or entry. */
export function diffOutcomes(c: Case, qemu: CaseOutcome, model: CaseOutcome): string[] {
  const diffs: string[] = [];
  const accesses = c.ops.filter((op) => op.op === 'access');
  accesses.forEach((op, i) => {
    const q = qemu.accesses[i];
    const m = model.accesses[i];
    if (!sameOutcome(q, m))
      diffs.push(
        `access #${i} (op ${c.ops.indexOf(op)}: ${formatOp(op)}): QEMU ${formatOutcome(q)}; model ${formatOutcome(m)}`,
      );
  });
  reportAddrs(c).forEach((addr, i) => {
    const q = qemu.entries[i];
    const m = model.entries[i];
    if (q !== m)
      diffs.push(
        `entry [${hex(addr)}] at the end: QEMU ${hex(q)} (${entryFlags(q)}); model ${hex(m)} (${entryFlags(m)})`,
      );
  });
  return diffs;
}

/** formatCase prints a case so it can be read and rebuilt by hand. */
export function formatCase(c: Case): string {
  const lines = [
    `case ${c.name}${c.sdm !== undefined ? ` (SDM ${c.sdm})` : ''}: CR0.WP=${c.wp ? 1 : 0} CR4.PSE=${c.pse ? 1 : 0} CR4.PGE=${c.pge ? 1 : 0} CR3=${hex(c.cr3)} salt=${hex(c.salt)}`,
    `  tables zeroed: ${c.tables.map((t) => hex(t)).join(' ')}${c.directories?.length ? `; other directories: ${c.directories.map((t) => hex(t)).join(' ')}` : ''}`,
    ...c.entries.map(([a, v]) => `  entry [${hex(a)}] = ${hex(v)} (${entryFlags(v)})`),
    ...c.ops.map((op, i) => `  op ${i}: ${formatOp(op)}`),
  ];
  return lines.join('\n');
}

/** formatMismatch is the reproducer: the case, then QEMU's outcome against ours. */
export function formatMismatch(m: Mismatch): string {
  return [`MISMATCH in ${m.c.name}`, formatCase(m.c), '  differences:', ...m.diffs.map((d) => `    ${d}`)].join('\n');
}
