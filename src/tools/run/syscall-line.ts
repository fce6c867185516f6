// The system-call lines valgrind writes with --trace-syscalls=yes, read by a cursor that names the column of what
// it did not find: `SYSCALL[PID,TID](NR) NAME ( ARGS )[sync] --> [pre-success] Success(0xV)` and its forms.

/** What a malformed line did wrong. */
export class LineFault extends Error {
  constructor(
    readonly column: number,
    readonly expected: string,
  ) {
    super(expected);
  }
}

/** One `SYSCALL[` line. `completes` is the second line of an async call; result null means "on a later line". */
export interface SyscallLine {
  readonly pid: number;
  readonly nr: number;
  readonly name: string;
  readonly args: number[];
  readonly strings: (string | null)[];
  readonly result: number | null;
  readonly failed: boolean;
  readonly child: number | null;
  readonly completes: boolean;
}

/** A ` --> ` continuation: the result of the call on an earlier line. */
export interface Continuation {
  readonly result: number;
  readonly failed: boolean;
}

/** Reads a line left to right; every miss is a LineFault naming the column and what was expected. */
class Cursor {
  i = 0;
  constructor(readonly text: string) {}

  /** eat consumes `word` if the text continues with it. */
  eat(word: string): boolean {
    if (!this.text.startsWith(word, this.i)) return false;
    this.i += word.length;
    return true;
  }

  /** eatAny consumes the first of `words` the text continues with, if any. */
  eatAny(words: readonly string[]): void {
    for (const w of words) if (this.eat(w)) return;
  }

  /** expect consumes `word` or fails. */
  expect(word: string): void {
    if (!this.eat(word)) this.fail(`'${word}'`);
  }

  /** match consumes the longest match of a sticky regex and returns it, or fails naming `what`. */
  match(re: RegExp, what: string): string {
    re.lastIndex = this.i;
    const m = re.exec(this.text);
    if (m === null) this.fail(what);
    this.i += m[0].length;
    return m[0];
  }

  /** decimal reads an unsigned decimal number of at most 10 digits. */
  decimal(what: string): number {
    return Number(this.match(/\d{1,10}/y, what));
  }

  spaces(): void {
    while (this.text[this.i] === ' ') this.i++;
  }

  atEnd(): boolean {
    return this.i >= this.text.length;
  }

  fail(expected: string): never {
    throw new LineFault(this.i + 1, expected);
  }
}

/** parseSyscallLine reads a whole `SYSCALL[` line. */
export function parseSyscallLine(text: string): SyscallLine {
  const c = new Cursor(text);
  c.expect('SYSCALL[');
  const pid = c.decimal('a pid');
  c.expect(',');
  c.decimal('a thread id');
  c.expect('](');
  const nr = c.decimal('a system call number');
  c.expect(') ');
  if (c.eat('... [async] --> ')) return { ...result(c, pid, nr, '', [], []), completes: true };
  if (c.eat('unimplemented (by the kernel) syscall: ')) {
    c.decimal('the call number');
    c.expect('! (ni_syscall)');
    return pendingEnd(c, pid, nr, 'ni_syscall', [], [], null);
  }
  const name = c.match(/[A-Za-z_][A-Za-z0-9_]*/y, 'a system call name');
  c.eat(' ');
  c.expect('(');
  const { args, strings } = parseArgs(c);
  c.eat('[sync]');
  return tail(c, pid, nr, name, args, strings);
}

/** tail reads what follows the argument list: a result, `[async] ...`, a fork's note, or nothing. */
function tail(c: Cursor, pid: number, nr: number, name: string, args: number[], strings: (string | null)[]) {
  if (c.eat(' --> ')) {
    if (c.eat('[async] ...')) return pendingEnd(c, pid, nr, name, args, strings, null);
    c.eatAny(['[pre-success] ', '[pre-fail] ', '[sync] ']);
    return { ...result(c, pid, nr, name, args, strings), completes: false };
  }
  c.spaces();
  if (c.eat('clone(fork): process ')) {
    c.decimal('the parent pid');
    c.expect(' created child ');
    return pendingEnd(c, pid, nr, name, args, strings, c.decimal('the child pid'));
  }
  return pendingEnd(c, pid, nr, name, args, strings, null);
}

/** pendingEnd checks the line ends here and returns a call whose result comes later. */
function pendingEnd(
  c: Cursor,
  pid: number,
  nr: number,
  name: string,
  args: number[],
  strings: (string | null)[],
  child: number | null,
): SyscallLine {
  c.spaces();
  if (!c.atEnd()) c.fail("' --> ' or the end of the line");
  return { pid, nr, name, args, strings, result: null, failed: false, child, completes: false };
}

/** result reads `Success(0xV)` or `Failure(0xV)` and the end of the line. */
function result(c: Cursor, pid: number, nr: number, name: string, args: number[], strings: (string | null)[]) {
  const r = parseResult(c);
  return { pid, nr, name, args, strings, result: r.result, failed: r.failed, child: null };
}

function parseResult(c: Cursor): Continuation {
  const failed = c.eat('Failure(0x');
  if (!failed) c.expect('Success(0x');
  const value = parseInt(c.match(/[0-9A-Fa-f]{1,8}/y, 'a hex value of at most 8 digits'), 16);
  c.expect(')');
  c.spaces();
  if (!c.atEnd()) c.fail('the end of the line after the result');
  return { result: value, failed };
}

/** parseContinuation reads ` --> [state] Success(0xV)`. */
export function parseContinuation(text: string): Continuation {
  const c = new Cursor(text);
  c.expect(' --> ');
  c.eatAny(['[pre-success] ', '[pre-fail] ', '[async] ', '[sync] ']);
  return parseResult(c);
}

/**
 * parseArgs reads ` a, b(text), c )` after the `(`: numbers (0x hex or decimal, maybe negative), each maybe
 * followed by the text valgrind shows in parentheses; the closing `)` is the one that balances the first.
 */
function parseArgs(c: Cursor): { args: number[]; strings: (string | null)[] } {
  const args: number[] = [];
  const strings: (string | null)[] = [];
  c.spaces();
  while (!c.eat(')')) {
    if (args.length > 0) {
      c.expect(',');
      c.spaces();
    }
    const num = c.match(/0x[0-9A-Fa-f]{1,8}|-?\d{1,10}/y, 'a number (0x hex or decimal) or )');
    args.push(num.startsWith('0x') ? parseInt(num.slice(2), 16) : Number(num));
    strings.push(c.text[c.i] === '(' ? shownText(c) : null);
    c.spaces();
  }
  return { args, strings };
}

/** shownText reads `(text)` with balanced parentheses inside and returns text. */
function shownText(c: Cursor): string {
  const start = ++c.i;
  for (let depth = 1; c.i < c.text.length; c.i++) {
    if (c.text[c.i] === '(') depth++;
    else if (c.text[c.i] === ')' && --depth === 0) return c.text.slice(start, c.i++);
  }
  return c.fail("')' closing the argument's text");
}
