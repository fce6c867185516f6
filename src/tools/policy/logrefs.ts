// The page-reference string of a memory trace: each access of SIZE bytes at
// ADDR references the pages of ADDR ... ADDR+SIZE-1 in order; stores and
// modifies write them.

import { PAGE_SIZE } from '../../hw/addr.js';
import { readRecords } from '../replay/source.js';
import { KIND_M, KIND_S, type RecordSink } from '../replay/trace.js';
import { RefBuilder, type RefString } from './refs.js';

const PAGES_PER_HI = 2 ** 32 / PAGE_SIZE;

/** Turns trace records into page references. */
class PageSink implements RecordSink {
  readonly refs = new RefBuilder();
  /** record adds the pages one access touches (an access of size 0 touches its first byte's page). */
  record(lo: number, hi: number, kind: number, size: number): void {
    const write = kind === KIND_S || kind === KIND_M;
    const first = hi * PAGES_PER_HI + Math.floor(lo / PAGE_SIZE);
    const last = hi * PAGES_PER_HI + Math.floor((lo + Math.max(size, 1) - 1) / PAGE_SIZE);
    for (let p = first; p <= last; p++) this.refs.add(p, write);
  }
}

/** logRefs reads a lackey or binary trace (plain or gzip) into its page-reference string. */
export async function logRefs(path: string): Promise<RefString> {
  const sink = new PageSink();
  await readRecords(path, sink);
  return sink.refs.done();
}
