// A naive reference for the bare model, written straight from the issue's
// text with Maps and arrays (nothing shared with src/hw): the tests compare
// the machine-based replay against it.

export interface NaiveCounters {
  records: number;
  hits: number;
  misses: number;
  walks: number;
  demand_faults: number;
  page_tables: number;
  frames_used: number;
  dirty_pages: number;
  dirty_sets: number;
  phys_hash: string;
}

export const COUNTER_KEYS = [
  'records',
  'hits',
  'misses',
  'walks',
  'demand_faults',
  'page_tables',
  'frames_used',
  'dirty_pages',
  'dirty_sets',
  'phys_hash',
] as const;

/** countersOf keeps only the counters of a replay result (no timing or configuration). */
export function countersOf(r: NaiveCounters): NaiveCounters {
  return Object.fromEntries(COUNTER_KEYS.map((k) => [k, r[k]])) as unknown as NaiveCounters;
}

interface Entry {
  vpn: number;
  frame: number;
  dirty: boolean;
}

/** naiveReplay replays [address, kind letter] records under a TLB spec string. */
export function naiveReplay(records: ReadonlyArray<readonly [number, string]>, tlb: string): NaiveCounters {
  const [sets, ways] = geometry(tlb);
  const tlbSets: Entry[][] = Array.from({ length: sets }, () => []); // each set ordered most recent first
  const tables = new Map<number, Map<number, { frame: number; dirty: boolean }>>();
  let next = 2;
  const c = { records: 0, hits: 0, misses: 0, walks: 0, demand_faults: 0, dirty_sets: 0 };
  let h = 2166136261;
  for (const [address, kind] of records) {
    const a = address % 2 ** 32; // the low 32 bits (addresses here are whole numbers below 2^53)
    const vpn = Math.floor(a / 4096);
    const write = kind === 'S' || kind === 'M';
    c.records++;
    let frame: number;
    const set = sets > 0 ? tlbSets[vpn % sets] : null;
    const found = set?.findIndex((e) => e.vpn === vpn) ?? -1;
    if (set !== null && found >= 0) {
      c.hits++;
      const e = set.splice(found, 1)[0];
      set.unshift(e);
      if (write && !e.dirty) {
        e.dirty = true;
        tables.get(Math.floor(vpn / 1024))!.get(vpn % 1024)!.dirty = true;
        c.dirty_sets++;
      }
      frame = e.frame;
    } else {
      c.misses++;
      c.walks++;
      let table = tables.get(Math.floor(vpn / 1024));
      if (table === undefined) {
        next++; // the page table's frame
        table = new Map();
        tables.set(Math.floor(vpn / 1024), table);
      }
      let pte = table.get(vpn % 1024);
      if (pte === undefined) {
        pte = { frame: next++, dirty: false };
        table.set(vpn % 1024, pte);
        c.demand_faults++;
      }
      if (write) pte.dirty = true;
      frame = pte.frame;
      if (set !== null) {
        set.unshift({ vpn, frame, dirty: pte.dirty });
        if (set.length > ways) set.pop();
      }
    }
    const phys = frame * 4096 + (a % 4096);
    h = Math.imul(h ^ phys, 16777619) >>> 0; // the issue's own JS form of FNV-1a
  }
  let dirty = 0;
  for (const t of tables.values()) for (const p of t.values()) if (p.dirty) dirty++;
  return {
    ...c,
    page_tables: tables.size,
    frames_used: next - 1,
    dirty_pages: dirty,
    phys_hash: h.toString(16).padStart(8, '0'),
  };
}

/** geometry turns a spec into [sets, ways]; none is [0, 0]. */
function geometry(tlb: string): [number, number] {
  if (tlb === 'none') return [0, 0];
  const [kind, size] = tlb.split(':') as [string, string];
  if (kind === 'dm') return [Number(size), 1];
  if (kind === 'fa') return [1, Number(size)];
  const [s, w] = size.split('x');
  return [Number(s), Number(w)];
}
