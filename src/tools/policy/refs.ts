// Page-reference strings: the input of `pagelab policy`. A reference is a page
// number and whether the access writes it; a string is held in two typed
// arrays so that a log of millions of accesses costs a few bytes each.

import { ParseError } from '../../errors.js';

/** A page-reference string: `pages[i]` was referenced, written when `writes[i]` is 1. */
export interface RefString {
  readonly length: number;
  readonly pages: Float64Array;
  readonly writes: Uint8Array;
}

/** The largest page number a reference may name: that of a 64-bit address's page, exact in a double. */
const MAX_PAGE = 2 ** 52 - 1;

/** One token of the text form: decimal or 0x-hex page number, then an optional r (read) or w (write). */
const TOKEN = /^(0x[0-9a-f]+|\d+)([rw]?)$/i;

/** Grows two typed arrays as references arrive; done() gives the RefString. */
export class RefBuilder {
  private pages = new Float64Array(1024);
  private writes = new Uint8Array(1024);
  private n = 0;

  /** add appends one reference. */
  add(page: number, write: boolean): void {
    if (this.n === this.pages.length) this.grow();
    this.pages[this.n] = page;
    this.writes[this.n] = write ? 1 : 0;
    this.n++;
  }

  /** done returns the references added so far. */
  done(): RefString {
    return { length: this.n, pages: this.pages.subarray(0, this.n), writes: this.writes.subarray(0, this.n) };
  }

  /** grow doubles the arrays' capacity. */
  private grow(): void {
    const pages = new Float64Array(this.pages.length * 2);
    const writes = new Uint8Array(this.writes.length * 2);
    pages.set(this.pages);
    writes.set(this.writes);
    this.pages = pages;
    this.writes = writes;
  }
}

/**
 * parseRefs reads the text form: tokens separated by commas and/or white space,
 * each a page number (decimal or 0x-hex) with an optional `w` (written) or `r`
 * suffix; `#` starts a comment to the end of its line. Errors name line and column.
 */
export function parseRefs(text: string, what: string): RefString {
  const b = new RefBuilder();
  const lines = text.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln].replace(/#.*$/, '').replace(/\r$/, '');
    for (const m of line.matchAll(/[^\s,]+/g)) {
      const t = TOKEN.exec(m[0]);
      const page = t === null ? NaN : Number(t[1]);
      if (t === null || page > MAX_PAGE) {
        const got = JSON.stringify(m[0].slice(0, 24));
        throw new ParseError(
          what,
          ln + 1,
          `a page number (decimal or 0x-hex, below 2^52) with an optional w or r at column ${m.index + 1}, got ${got}`,
          'line',
        );
      }
      b.add(page, t[2].toLowerCase() === 'w');
    }
  }
  const refs = b.done();
  if (refs.length === 0) throw new ParseError(what, lines.length, 'at least one page reference', 'line');
  return refs;
}
