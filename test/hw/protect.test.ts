// One test per rights rule of protect.ts (SDM 4.6.1) and per error-code rule (SDM 4.7).
import { describe, expect, it } from 'vitest';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE } from '../../src/hw/fault.js';
import { PF_ID, PF_P, PF_RSVD, PF_U, PF_W } from '../../src/hw/paging.js';
import {
  PROT_SUP_FETCH,
  PROT_SUP_READ,
  PROT_SUP_WRITE,
  PROT_USER_FETCH,
  PROT_USER_READ,
  PROT_USER_WRITE,
  faultCode,
  idBitApplies,
  protNeed,
  protRights,
  type ProtectMode,
} from '../../src/hw/protect.js';

const BASE: ProtectMode = { wp: true, nx: false, smep: false, smap: false, ac: false };
const mode = (m: Partial<ProtectMode>): ProtectMode => ({ ...BASE, ...m });
const SUP_ALL = PROT_SUP_READ | PROT_SUP_WRITE | PROT_SUP_FETCH;
const USER_ALL = PROT_USER_READ | PROT_USER_WRITE | PROT_USER_FETCH;

describe('SDM 4.6.1: supervisor accesses', () => {
  it('a writable supervisor page allows every supervisor access and no user access', () => {
    expect(protRights(true, false, false, BASE)).toBe(SUP_ALL);
  });

  it('CR0.WP=1 forbids supervisor writes to read-only pages; WP=0 allows them', () => {
    expect(protRights(false, false, false, BASE) & PROT_SUP_WRITE).toBe(0);
    expect(protRights(false, false, false, mode({ wp: false })) & PROT_SUP_WRITE).toBe(PROT_SUP_WRITE);
  });

  it('SMAP forbids supervisor reads and writes of user-mode addresses when EFLAGS.AC=0', () => {
    const r = protRights(true, true, false, mode({ smap: true }));
    expect(r & (PROT_SUP_READ | PROT_SUP_WRITE)).toBe(0);
    expect(r & PROT_SUP_FETCH).toBe(PROT_SUP_FETCH); // SMAP leaves fetches alone
    expect(r & USER_ALL).toBe(USER_ALL);
  });

  it('SMAP with EFLAGS.AC=1 allows explicit supervisor data accesses to user-mode addresses', () => {
    expect(protRights(true, true, false, mode({ smap: true, ac: true })) & SUP_ALL).toBe(SUP_ALL);
  });

  it('SMAP with AC=1 and WP=0 allows supervisor writes to read-only user pages; with WP=1 it does not', () => {
    expect(protRights(false, true, false, mode({ smap: true, ac: true, wp: false })) & PROT_SUP_WRITE).toBe(
      PROT_SUP_WRITE,
    );
    expect(protRights(false, true, false, mode({ smap: true, ac: true })) & PROT_SUP_WRITE).toBe(0);
  });

  it('SMAP does not touch supervisor-mode addresses', () => {
    expect(protRights(true, false, false, mode({ smap: true }))).toBe(SUP_ALL);
  });

  it('SMEP forbids supervisor fetches from user-mode addresses, nothing else', () => {
    const r = protRights(true, true, false, mode({ smep: true }));
    expect(r & PROT_SUP_FETCH).toBe(0);
    expect(r & (PROT_SUP_READ | PROT_SUP_WRITE)).toBe(PROT_SUP_READ | PROT_SUP_WRITE);
    expect(protRights(true, false, false, mode({ smep: true })) & PROT_SUP_FETCH).toBe(PROT_SUP_FETCH);
  });

  it('without SMEP, supervisor fetches from user-mode addresses are allowed', () => {
    expect(protRights(true, true, false, BASE) & PROT_SUP_FETCH).toBe(PROT_SUP_FETCH);
  });
});

describe('SDM 4.6.1: user accesses', () => {
  it('user accesses to supervisor-mode addresses are never allowed', () => {
    expect(protRights(true, false, false, mode({ wp: false })) & USER_ALL).toBe(0);
  });

  it('user writes need R/W=1 whatever CR0.WP', () => {
    expect(protRights(false, true, false, mode({ wp: false })) & PROT_USER_WRITE).toBe(0);
    expect(protRights(true, true, false, BASE) & PROT_USER_WRITE).toBe(PROT_USER_WRITE);
  });
});

describe('SDM 4.6.1/4.1.3: execute disable', () => {
  it('with NXE (nx), XD=1 forbids fetches at both privilege levels and leaves data accesses', () => {
    const r = protRights(true, true, true, mode({ nx: true }));
    expect(r & (PROT_SUP_FETCH | PROT_USER_FETCH)).toBe(0);
    expect(r & (PROT_SUP_READ | PROT_USER_READ | PROT_USER_WRITE)).toBe(
      PROT_SUP_READ | PROT_USER_READ | PROT_USER_WRITE,
    );
  });

  it('without NXE the XD bit has no effect on rights', () => {
    expect(protRights(true, true, true, BASE)).toBe(protRights(true, true, false, BASE));
  });
});

describe('SDM 4.7: error codes', () => {
  it('protNeed names one right per kind and privilege', () => {
    expect(protNeed(ACCESS_READ, false)).toBe(PROT_SUP_READ);
    expect(protNeed(ACCESS_WRITE, true)).toBe(PROT_USER_WRITE);
    expect(protNeed(ACCESS_FETCH, false)).toBe(PROT_SUP_FETCH);
    expect(protNeed(ACCESS_FETCH, true)).toBe(PROT_USER_FETCH);
  });

  it('I/D is set for fetches only with SMEP or with NXE under PAE', () => {
    expect(idBitApplies({ nx: false, smep: false })).toBe(false);
    expect(faultCode(ACCESS_FETCH, false, false, false, { nx: false, smep: false })).toBe(0);
    expect(faultCode(ACCESS_FETCH, false, false, false, { nx: true, smep: false })).toBe(PF_ID);
    expect(faultCode(ACCESS_FETCH, true, true, false, { nx: false, smep: true })).toBe(PF_ID | PF_U | PF_P);
  });

  it('W/R, U/S, P and RSVD come from the access and the cause', () => {
    expect(faultCode(ACCESS_WRITE, true, true, false, BASE)).toBe(PF_W | PF_U | PF_P);
    expect(faultCode(ACCESS_READ, false, true, true, BASE)).toBe(PF_P | PF_RSVD);
    expect(faultCode(ACCESS_WRITE, false, false, true, { nx: true, smep: true })).toBe(PF_W | PF_RSVD);
  });
});
