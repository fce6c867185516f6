// Where QEMU departs from the SDM, the model follows the SDM by default and
// has an option reproducing QEMU, which the differential suite uses. Here the
// default is checked against the SDM, and the option against QEMU's behaviour.

import { describe, expect, it } from 'vitest';
import { PF_P, PF_RSVD, PF_U } from '../../src/hw/paging.js';
import { newMachine, runOnModel } from './model.js';
import { namedCases } from './named.js';

describe('SDM 4.7: a reserved-bit fault sets P', () => {
  const c = namedCases().find((x) => x.name === 'large-page-reserved-bit21')!;

  it("the model's default reports P=1 with RSVD=1 for bit 21 of a 4 MiB PDE", () => {
    const first = runOnModel(c, newMachine({ rsvdErrorCode: 'sdm' })).accesses[0];
    expect(first).toEqual({ fault: true, cr2: 0x04001100, code: PF_P | PF_RSVD | PF_U });
  });

  it("with rsvdErrorCode 'qemu' (the suite's setting) it reports QEMU 7.2's P=0", () => {
    const first = runOnModel(c, newMachine({ rsvdErrorCode: 'qemu' })).accesses[0];
    expect(first).toEqual({ fault: true, cr2: 0x04001100, code: PF_RSVD | PF_U });
  });
});
