// Flush obligations (the Rust x86_64 crate's MapperFlush): every operation
// that can leave a stale TLB entry returns a Flush that the caller must
// either apply (INVLPG each page) or explicitly ignore (the address space is
// not the current one). A forgotten obligation is caught: the next VM
// operation, or FlushTracker.check(), throws UnflushedError naming the pages.
// Page-table frames an operation frees are held until the flush is settled,
// so no frame can be reused while a stale translation may still point at it.

import { hex, type PhysAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import { PagelabError } from '../../errors.js';

/**
 * - unflushed: obligations left neither applied nor ignored when the next VM operation (or check()) ran;
 * - kernel-pages: ignore() of a flush of kernel pages (every address space shares them);
 * - current-space: ignore() of a flush in the current address space;
 * - settled-twice: a flush applied or ignored a second time.
 */
export type UnflushedErrorKind = 'unflushed' | 'kernel-pages' | 'current-space' | 'settled-twice';

/** A flush obligation mishandled; `pages` are the linear pages it was about (the first few for 'unflushed'). */
export class UnflushedError extends PagelabError {
  constructor(
    readonly kind: UnflushedErrorKind,
    readonly pages: readonly number[],
    message: string,
  ) {
    super(message);
  }
}

/** Flushing more pages than this reloads CR3 instead (user pages only; global kernel pages survive a reload). */
const INVLPG_LIMIT = 64;

export class FlushTracker {
  private readonly pending = new Set<Flush>();
  invlpgs = 0;
  reloads = 0;

  constructor(readonly machine: Machine) {}

  /** track records a new obligation. */
  track(f: Flush): Flush {
    this.pending.add(f);
    return f;
  }

  settle(f: Flush): void {
    this.pending.delete(f);
  }

  /** Obligations not yet applied or ignored. */
  get outstanding(): number {
    return this.pending.size;
  }

  private suspendedDepth = 0;

  /** suspended runs fn with check() disabled (for the parts of one multi-page operation). */
  suspended<T>(fn: () => T): T {
    this.suspendedDepth++;
    try {
      return fn();
    } finally {
      this.suspendedDepth--;
    }
  }

  /** check throws if any obligation was left unsettled. */
  check(): void {
    if (this.pending.size === 0 || this.suspendedDepth > 0) return;
    const first = [...this.pending].flatMap((f) => f.pages).slice(0, 4);
    const pages = first.map((p) => hex(p));
    throw new UnflushedError(
      'unflushed',
      first,
      `${this.pending.size} TLB flush obligation(s) neither applied nor ignored (pages ${pages.join(', ')}${this.pending.size > 1 || pages.length > 3 ? ', ...' : ''})`,
    );
  }
}

export class Flush {
  private settled = false;

  /**
   * pages: linear pages whose translations changed; directory: the space they belong to;
   * kernel: whether they lie in the shared kernel half; release runs once settled.
   */
  constructor(
    private readonly tracker: FlushTracker,
    readonly pages: readonly number[],
    readonly directory: PhysAddr,
    readonly kernel: boolean,
    private readonly release: () => void = () => {},
  ) {}

  /** combine settles several obligations into one covering all their pages. */
  static combine(tracker: FlushTracker, parts: readonly Flush[], directory: PhysAddr): Flush {
    for (const p of parts) p.settle();
    const pages = parts.flatMap((p) => p.pages);
    const kernel = parts.some((p) => p.kernel);
    return tracker.track(new Flush(tracker, pages, directory, kernel, () => parts.forEach((p) => p.release())));
  }

  /** flush applies the obligation: INVLPG each page (or a CR3 reload for many user pages). */
  flush(): void {
    this.settle();
    const machine = this.tracker.machine;
    if (!this.kernel && this.pages.length > INVLPG_LIMIT && this.isCurrent()) {
      machine.mmu.writeCr3(machine.mmu.cr3);
      this.tracker.reloads++;
    } else {
      for (const p of this.pages) machine.mmu.invlpg(p);
      this.tracker.invlpgs += this.pages.length;
    }
    this.release();
  }

  /**
   * ignore drops the obligation; only allowed when no TLB can hold the pages:
   * user pages of an address space that is not current.
   */
  ignore(): void {
    if (this.kernel)
      throw new UnflushedError(
        'kernel-pages',
        this.pages,
        'cannot ignore a flush of kernel pages: every address space shares them',
      );
    if (this.isCurrent())
      throw new UnflushedError(
        'current-space',
        this.pages,
        `cannot ignore a flush: address space ${hex(this.directory)} is current`,
      );
    this.settle();
    this.release();
  }

  private isCurrent(): boolean {
    return (this.tracker.machine.mmu.cr3 & 0xfffff000) >>> 0 === this.directory;
  }

  private settle(): void {
    if (this.settled) throw new UnflushedError('settled-twice', this.pages, 'flush obligation settled twice');
    this.settled = true;
    this.tracker.settle(this);
  }
}
