// FNV-1a (Fowler, Noll, Vo), 32 bits, over 32-bit words: the digest the trace replay folds every translated
// physical address into (phys_hash), so that a run can be compared bit for bit with another implementation.

/** FNV-1a's 32-bit prime and offset basis (the digest of nothing). */
export const FNV_PRIME = 16777619;
export const FNV_OFFSET = 2166136261;

/** fnvStep folds one 32-bit word into the digest h: (h XOR word) * FNV_PRIME mod 2^32, as an unsigned number. */
export function fnvStep(h: number, word: number): number {
  return Math.imul(h ^ word, 16777619) >>> 0;
}

/*
 * Hand-inlined copies. The replay's hot loops write this step out as `Math.imul(d ^ x, 16777619)` and keep the
 * digest as an int32 until the loop ends: Mmu.translateDigest (paging off, hitOrFillDigest, walkDigest) and
 * Tlb.hitDigestPlain/hitDigestLru, each marked "fnvStep, inlined". Calling fnvStep there made those loops 7 to
 * 10 times slower (Node 20: 180 -> 17 M accesses/s with sa:16x4). test/hw/fnv.test.ts pins every copy to
 * fnvStep: a digest through translateDigest equals fnvStep folded over translate()'s results.
 */
