// Running a reference string through one policy with a fixed number of frames.

import { EMPTY, FrameTable } from './frames.js';
import { makePolicy, type PolicyName, type PolicySettings } from './policies.js';
import type { RefString } from './refs.js';

/** What one reference did, handed to an observer as it happens. */
export interface Step {
  /** The reference's number, from 1. */
  readonly index: number;
  readonly page: number;
  readonly write: boolean;
  readonly hit: boolean;
  /** The page evicted to make room, or EMPTY (a hit, or an empty frame taken). */
  readonly victim: number;
  /** Whether the victim was dirty and so written to disk. */
  readonly written: boolean;
  /** The frames after the reference (a live view: copy it to keep it). */
  readonly frames: Float64Array;
}

/** The totals of one run, named as vmsim and OSTEP's paging-policy.py name them. */
export interface PolicyResult {
  readonly policy: PolicyName;
  readonly frames: number;
  readonly references: number;
  readonly hits: number;
  /** Misses, cold misses included ("Total page faults"). */
  readonly faults: number;
  /** Evictions of dirty pages ("Total writes to disk"). */
  readonly writes: number;
  /** Pages evicted, written or not. */
  readonly evictions: number;
}

/** simulate runs `refs` through `name` with `frames` frames, calling `observe` after each reference. */
export function simulate(
  refs: RefString,
  frames: number,
  name: PolicyName,
  settings: PolicySettings,
  observe?: (s: Step) => void,
): PolicyResult {
  const table = new FrameTable(frames);
  const policy = makePolicy(name, table, refs, settings);
  let hits = 0;
  let writes = 0;
  let evictions = 0;
  for (let t = 0; t < refs.length; t++) {
    policy.tick(t);
    const page = refs.pages[t];
    const write = refs.writes[t] === 1;
    let f = table.frameOf(page);
    const hit = f >= 0;
    let victim = EMPTY;
    let written = false;
    if (hit) {
      hits++;
      table.touch(f, write);
      policy.hit(f, t);
    } else {
      f = table.full ? policy.victim(page, t) : table.used;
      victim = table.page[f];
      written = victim !== EMPTY && table.dirty[f] === 1;
      if (victim !== EMPTY) evictions++;
      if (written) writes++;
      table.load(f, page, write);
      policy.loaded(f, page, t);
    }
    observe?.({ index: t + 1, page, write, hit, victim, written, frames: table.page });
  }
  return { policy: name, frames, references: refs.length, hits, faults: refs.length - hits, writes, evictions };
}
