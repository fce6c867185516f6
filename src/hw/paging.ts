// Formats of 32-bit paging structures and control-register bits
// (Intel SDM Vol. 3A, 2.5 and 4.3). Named constants, never bare numbers.

/** CR0 (SDM 2.5). */
export const CR0_PE = 1 << 0;
export const CR0_ET = 1 << 4; // extension type: hard-wired to 1 since the i486 (QEMU reports it)
export const CR0_WP = 1 << 16;
export const CR0_PG = 1 << 31;

/** CR3 with 32-bit paging (SDM 4.3, Table 4-3). */
export const CR3_PWT = 1 << 3;
export const CR3_PCD = 1 << 4;
export const CR3_BASE_MASK = 0xfffff000;

/** CR4 (SDM 2.5). PAE is reserved for later work: setting it is refused. */
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_PGE = 1 << 7;

/** Paging-structure entry flags (SDM 4.3, Tables 4-4 to 4-6). */
export const PTE_P = 1 << 0; // present
export const PTE_RW = 1 << 1; // writable
export const PTE_US = 1 << 2; // user-accessible
export const PTE_PWT = 1 << 3;
export const PTE_PCD = 1 << 4;
export const PTE_A = 1 << 5; // accessed
export const PTE_D = 1 << 6; // dirty (leaf entries only)
export const PDE_PS = 1 << 7; // page size: 4 MiB page (PDE, with CR4.PSE)
export const PTE_PAT = 1 << 7; // PAT bit of a 4 KiB PTE
export const PTE_G = 1 << 8; // global (leaf entries, with CR4.PGE)
export const PDE_PAT_LARGE = 1 << 12; // PAT bit of a 4 MiB PDE
export const PTE_AVAIL_MASK = 0xe00; // bits 11:9, ignored by hardware
export const FRAME_MASK = 0xfffff000;
export const LARGE_FRAME_MASK = 0xffc00000;
/** Bits 20:13 of a 4 MiB PDE hold physical-address bits 39:32 (PSE-36, SDM 4.3 Table 4-5). */
export const PDE_PSE36_MASK = 0x001fe000;
/** Bit 21 of a 4 MiB PDE is always reserved (SDM 4.3 Table 4-5). */
export const PDE_LARGE_RSVD_BIT21 = 1 << 21;

/** Page-fault error code bits (SDM 4.7, Figure 4-12). */
export const PF_P = 1 << 0; // 0: non-present page; 1: protection violation
export const PF_W = 1 << 1; // 0: read; 1: write
export const PF_U = 1 << 2; // 0: supervisor-mode access; 1: user-mode access
export const PF_RSVD = 1 << 3; // a reserved bit was set in some paging-structure entry
export const PF_ID = 1 << 4; // instruction fetch (only with SMEP or PAE+NXE; never in this model)

/** pdIndex is bits 31:22 of a linear address. */
export function pdIndex(linear: number): number {
  return linear >>> 22;
}

/** ptIndex is bits 21:12 of a linear address. */
export function ptIndex(linear: number): number {
  return (linear >>> 12) & 0x3ff;
}

const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [PTE_P, 'P'],
  [PTE_RW, 'RW'],
  [PTE_US, 'US'],
  [PTE_PWT, 'PWT'],
  [PTE_PCD, 'PCD'],
  [PTE_A, 'A'],
  [PTE_D, 'D'],
  [PDE_PS, 'PS'],
  [PTE_G, 'G'],
];

/** flagNames lists the set architectural flags of an entry (PS for a PDE, PAT for a PTE at bit 7). */
export function flagNames(entry: number, isPde: boolean): string[] {
  const out: string[] = [];
  for (const [bit, name] of FLAG_NAMES) {
    if ((entry & bit) === 0) continue;
    out.push(bit === PDE_PS && !isPde ? 'PAT' : name);
  }
  return out;
}

/** describeErrorCode turns a page-fault error code into words. */
export function describeErrorCode(code: number): string {
  const parts = [
    code & PF_P ? 'protection violation' : 'not present',
    code & PF_ID ? 'fetch' : code & PF_W ? 'write' : 'read',
    code & PF_U ? 'user' : 'supervisor',
  ];
  if (code & PF_RSVD) parts.push('reserved bit set');
  return parts.join(', ');
}
