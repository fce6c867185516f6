// Where QEMU departs from the SDM, the model is checked against the SDM here
// instead (the comparison excuses only exactly this difference, compare.ts).

import { describe, expect, it } from 'vitest';
import { PF_P, PF_RSVD, PF_U } from '../../src/hw/paging.js';
import { rsvdWithoutP } from './compare.js';
import { runOnModel } from './model.js';
import { namedCases } from './named.js';

describe('SDM 4.7: a reserved-bit fault sets P', () => {
  it('the model reports P=1 with RSVD=1 for bit 21 of a 4 MiB PDE', () => {
    const c = namedCases().find((x) => x.name === 'large-page-reserved-bit21')!;
    const first = runOnModel(c).accesses[0]!;
    expect(first).toEqual({ fault: true, cr2: 0x04001100, code: PF_P | PF_RSVD | PF_U });
  });

  it('only P differing on a reserved-bit fault is excused', () => {
    const m = { fault: true, cr2: 0x1000, code: PF_P | PF_RSVD } as const;
    expect(rsvdWithoutP({ fault: true, cr2: 0x1000, code: PF_RSVD }, m)).toBe(true);
    expect(rsvdWithoutP({ fault: true, cr2: 0x1000, code: PF_RSVD | PF_U }, m)).toBe(false);
    expect(rsvdWithoutP({ fault: true, cr2: 0x2000, code: PF_RSVD }, m)).toBe(false);
    expect(rsvdWithoutP({ fault: true, cr2: 0x1000, code: 0 }, { fault: true, cr2: 0x1000, code: PF_P })).toBe(false);
  });
});
