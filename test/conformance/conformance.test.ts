// The QEMU conformance suite in the default test run: every named case and
// 300 generated ones (150 of a fixed seed, 150 of a seed that changes per run,
// printed for replay) on QEMU and on the model, compared.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatMismatch } from './compare.js';
import { generateCases } from './generate.js';
import { namedCases } from './named.js';
import { PF_P, PF_U } from '../../src/hw/paging.js';
import { runOnModel } from './model.js';
import { INSTALL_HINT, missingTools, runOnQemu } from './qemu.js';
import { runSuite } from './suite.js';

const missing = missingTools();
if (missing.length > 0) console.log(`conformance suite skipped: ${missing.join(', ')} not installed (${INSTALL_HINT})`);

const FIXED_SEED = 20261121;
const RUN_SEED = Number(process.env.CONFORMANCE_SEED ?? Math.floor(Math.random() * 0xffffffff));

describe.skipIf(missing.length > 0)('QEMU conformance', () => {
  it('agrees with QEMU on every named case', async () => {
    const r = await runSuite(namedCases());
    expect(r.mismatches.map(formatMismatch)).toEqual([]);
    expect(r.faults).toBeGreaterThan(1000);
  });

  it(`agrees with QEMU on 150 generated cases of seed ${FIXED_SEED} and 150 of seed ${RUN_SEED}`, async () => {
    console.log(
      `conformance: changing seed ${RUN_SEED} (replay: npm run conformance -- --seed ${RUN_SEED} --cases 150 --no-named)`,
    );
    const r = await runSuite([...generateCases(FIXED_SEED, 150), ...generateCases(RUN_SEED, 150)]);
    expect(r.mismatches.map(formatMismatch)).toEqual([]);
    expect(r.faults).toBeGreaterThan(0);
    expect(r.faults).toBeLessThan(r.accesses);
  });

  it('QEMU reports a straddling fetch that faults on its second page with CR2 = that page (SDM 4.7), as the model does', async () => {
    const c = namedCases().filter((x) => x.name === 'fetch-straddle-second-supervisor');
    const [q] = await runOnQemu(c);
    const expected = [
      { fault: true, cr2: 0x04006000, code: PF_P | PF_U },
      { fault: false, value: 0 },
      { fault: true, cr2: 0x04006000, code: PF_P | PF_U },
    ];
    expect(q.accesses).toEqual(expected);
    expect(runOnModel(c[0]).accesses).toEqual(expected);
  });

  it('catches a model that differs: Bochs-order PDE.A disagrees on pde-accessed-on-pte-fault', async () => {
    const c = namedCases().filter((x) => x.name === 'pde-accessed-on-pte-fault');
    const r = await runSuite(c, { model: { accessedOrder: 'after-checks' } });
    expect(r.mismatches).toHaveLength(1);
    expect(r.mismatches[0].diffs.join('\n')).toMatch(
      /entry \[0x00400040\] at the end: QEMU 0x00401027 .* model 0x00401007/,
    );
  });

  it('npm run conformance prints the summary line and exits 0 without mismatches', () => {
    const r = spawnSync(
      'npx',
      ['tsx', 'test/conformance/cli.ts', '--seed', '7', '--cases', '5', '--name', 'straddle'],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(
      /^conformance: cases=\d+ accesses=\d+ faults=\d+ mismatches=0 seed=7$/,
    );
    expect(r.status).toBe(0);
  });

  it('npm run conformance prints a shrunk reproducer and exits 1 on a mismatch', () => {
    const args = [
      'tsx',
      'test/conformance/cli.ts',
      '--seed',
      '3',
      '--name',
      'pte-not-present',
      '--accessed-order',
      'after-checks',
    ];
    const r = spawnSync('npx', args, { encoding: 'utf8' });
    expect(r.stdout).toMatch(/MISMATCH in pte-not-present \(shrunk\)/);
    /** Three accesses and two entries shrink to one access and the PDE. */
    expect(r.stdout).toMatch(/op 0: .*\n {2}differences:/);
    expect(r.stdout).not.toMatch(/entry \[0x00401014\]/);
    expect(r.stdout).toMatch(/entry \[0x00400040\] at the end: QEMU 0x00401027 \(P\|RW\|US\|A\); model 0x00401007/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('conformance: cases=1 accesses=3 faults=3 mismatches=1 seed=3');
    expect(r.status).toBe(1);
  });
});
