// The classic page-replacement policies over a FrameTable. Each is told of
// every hit and load, and asked for a victim frame when a miss finds every
// frame full. Ties always go to the lowest frame number, so that every run
// is reproducible and an oracle can match it exactly.

import { PagelabError } from '../../errors.js';
import { ArcPolicy } from './arc.js';
import type { FrameTable } from './frames.js';
import type { RefString } from './refs.js';

/** Policy names, in the order `pagelab policy` prints them. */
export const POLICY_NAMES = ['fifo', 'lru', 'opt', 'clock', 'rand', 'nru', 'aging', 'arc'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** What a policy is told and asked while a reference string runs. */
export interface Policy {
  /** tick is called before reference t is made (the sampling policies clear or shift A here). */
  tick(t: number): void;
  /** hit: reference t found its page in frame f. */
  hit(f: number, t: number): void;
  /** victim: reference t misses `page` and every frame is full: the frame to reuse. */
  victim(page: number, t: number): number;
  /** loaded: reference t's page is now in frame f. */
  loaded(f: number, page: number, t: number): void;
}

/** Settings of the policies that have any. */
export interface PolicySettings {
  /** rand's seed (a nonzero 32-bit number). */
  readonly seed: number;
  /** nru and aging: references between two samplings of the A bits. */
  readonly tick: number;
}

/** makePolicy builds policy `name` over `table`; opt is given the whole string (its future). */
export function makePolicy(name: PolicyName, table: FrameTable, refs: RefString, s: PolicySettings): Policy {
  switch (name) {
    case 'fifo':
      return new StampPolicy(table, false);
    case 'lru':
      return new StampPolicy(table, true);
    case 'opt':
      return new OptPolicy(table, refs);
    case 'clock':
      return new ClockPolicy(table);
    case 'rand':
      return new RandPolicy(table, s.seed);
    case 'nru':
      return new NruPolicy(table, s.tick);
    case 'aging':
      return new AgingPolicy(table, s.tick);
    case 'arc':
      return new ArcPolicy(table);
  }
}

/** parsePolicies reads `all` or a comma-separated list of policy names. */
export function parsePolicies(spec: string): PolicyName[] {
  if (spec === 'all') return [...POLICY_NAMES];
  const names = spec.split(',').map((s) => s.trim().toLowerCase());
  for (const n of names) {
    if (!(POLICY_NAMES as readonly string[]).includes(n))
      throw new PagelabError(`--policy: unknown policy '${n}' (known: ${POLICY_NAMES.join(', ')}, or all)`);
  }
  return [...new Set(names)] as PolicyName[];
}

/** lowestBy returns the frame whose key is smallest (the lowest frame on a tie). */
function lowestBy(n: number, key: (f: number) => number): number {
  let best = 0;
  let bestKey = key(0);
  for (let f = 1; f < n; f++) {
    const k = key(f);
    if (k < bestKey) [best, bestKey] = [f, k];
  }
  return best;
}

/** FIFO evicts the page loaded longest ago; LRU the page referenced longest ago (both exact). */
class StampPolicy implements Policy {
  private readonly stamp: Float64Array;
  constructor(
    private readonly table: FrameTable,
    private readonly onHit: boolean,
  ) {
    this.stamp = new Float64Array(table.size);
  }
  tick(): void {}
  hit(f: number, t: number): void {
    if (this.onHit) this.stamp[f] = t;
  }
  victim(): number {
    return lowestBy(this.table.size, (f) => this.stamp[f]);
  }
  loaded(f: number, _page: number, t: number): void {
    this.stamp[f] = t;
  }
}

/** OPT (Belady's MIN) evicts the page whose next reference is farthest away (never: farthest of all). */
class OptPolicy implements Policy {
  private readonly nextUse: Float64Array;
  private readonly next: Float64Array;
  constructor(
    private readonly table: FrameTable,
    refs: RefString,
  ) {
    this.nextUse = new Float64Array(table.size);
    this.next = nextReferences(refs);
  }
  tick(): void {}
  hit(f: number, t: number): void {
    this.nextUse[f] = this.next[t];
  }
  victim(): number {
    return lowestBy(this.table.size, (f) => -this.nextUse[f]);
  }
  loaded(f: number, _page: number, t: number): void {
    this.nextUse[f] = this.next[t];
  }
}

/** nextReferences gives, for each reference t, the index of the next reference to the same page (Infinity: none). */
export function nextReferences(refs: RefString): Float64Array {
  const next = new Float64Array(refs.length);
  const seen = new Map<number, number>();
  for (let t = refs.length - 1; t >= 0; t--) {
    next[t] = seen.get(refs.pages[t]) ?? Infinity;
    seen.set(refs.pages[t], t);
  }
  return next;
}

/**
 * CLOCK (second chance): the frames form a ring with a hand. A miss sweeps the
 * hand from where it stands, clearing A and moving past every frame whose page
 * has A set, and takes the first whose page has A clear; the page is loaded
 * there (with A set, as its access sets it) and the hand moves one past it.
 */
class ClockPolicy implements Policy {
  private hand = 0;
  constructor(private readonly table: FrameTable) {}
  tick(): void {}
  hit(): void {}
  victim(): number {
    const a = this.table.accessed;
    while (a[this.hand] === 1) {
      a[this.hand] = 0;
      this.hand = (this.hand + 1) % this.table.size;
    }
    return this.hand;
  }
  loaded(f: number): void {
    this.hand = (f + 1) % this.table.size;
  }
}

/** RAND evicts a frame drawn by xorshift32 from `--seed`. */
class RandPolicy implements Policy {
  private state: number;
  constructor(
    private readonly table: FrameTable,
    seed: number,
  ) {
    this.state = seed >>> 0 || 1;
  }
  tick(): void {}
  hit(): void {}
  victim(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state % this.table.size;
  }
  loaded(): void {}
}

/**
 * NRU: every `tick` references the A bits are cleared; a miss evicts from the
 * lowest class (A, D) = (0,0) < (0,1) < (1,0) < (1,1), the lowest frame first.
 */
class NruPolicy implements Policy {
  constructor(
    private readonly table: FrameTable,
    private readonly period: number,
  ) {}
  tick(t: number): void {
    if (t > 0 && t % this.period === 0) this.table.accessed.fill(0);
  }
  hit(): void {}
  victim(): number {
    const { accessed, dirty } = this.table;
    return lowestBy(this.table.size, (f) => accessed[f] * 2 + dirty[f]);
  }
  loaded(): void {}
}

/**
 * AGING: an 8-bit counter per frame; every `tick` references each counter
 * shifts right with the page's A bit entering at bit 7, and A is cleared. A
 * miss evicts the smallest (A, counter): the A bit of the interval under way
 * ranks above the counter, as the next tick would shift it in.
 */
class AgingPolicy implements Policy {
  private readonly counter: Uint8Array;
  constructor(
    private readonly table: FrameTable,
    private readonly period: number,
  ) {
    this.counter = new Uint8Array(table.size);
  }
  tick(t: number): void {
    if (t === 0 || t % this.period !== 0) return;
    const a = this.table.accessed;
    for (let f = 0; f < this.table.size; f++) {
      this.counter[f] = (this.counter[f] >>> 1) | (a[f] << 7);
      a[f] = 0;
    }
  }
  hit(): void {}
  victim(): number {
    const a = this.table.accessed;
    return lowestBy(this.table.size, (f) => (a[f] << 8) | this.counter[f]);
  }
  loaded(f: number): void {
    this.counter[f] = 0;
  }
}
