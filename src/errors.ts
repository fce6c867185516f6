// Error types shared by every layer. The CLI prints a PagelabError's message
// (no stack trace) and exits with status 2; anything else is a bug.

/** An error the user can act on: bad input, a rejected kernel call, a fault. */
export class PagelabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Malformed input bytes or text: names where (offset or line) and what was expected. */
export class ParseError extends PagelabError {
  constructor(
    readonly what: string,
    readonly offset: number,
    readonly expected: string,
    readonly unit: 'offset' | 'line' = 'offset',
  ) {
    const where = unit === 'line' ? `line ${offset}` : `offset 0x${offset.toString(16)} (${offset})`;
    super(`${what}: at ${where}: expected ${expected}`);
  }
}
