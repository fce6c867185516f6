// The events of `pagelab run --events FILE`: one JSON object a line, each with
// "type" (exec, fault, switch, fork, exit, kill), "record" (the trace record it
// happened at) and "logPid", and the fields of its type (src/kernel/proc/api.ts
// ProcessEvent). Parsed strictly: a bad line is a ParseError naming it.

import { ParseError } from '../../src/errors.js';

export interface RunEvent {
  readonly type: 'exec' | 'fault' | 'switch' | 'fork' | 'exit' | 'kill';
  readonly record: number;
  /** The process the event belongs to (fault, exec, exit, kill: pid; switch: to; fork: child). */
  readonly pid: number;
  /** The other process (switch: from; fork: parent), or -1. */
  readonly other: number;
  readonly address: number | null;
  readonly errorCode: number | null;
  /** A fault's kind (zero, file, stack, cow, protection), a kill's reason, an exit's code. */
  readonly detail: string;
}

const FIELDS: Readonly<Record<RunEvent['type'], readonly string[]>> = {
  exec: ['pid', 'entry', 'stackPointer'],
  fault: ['pid', 'address', 'errorCode'],
  switch: ['from', 'to'],
  fork: ['parent', 'child'],
  exit: ['pid', 'code'],
  kill: ['pid', 'address', 'errorCode'],
};

/** num reads a required integer field of line n. */
function num(o: Record<string, unknown>, key: string, what: string, n: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ParseError(what, n, `an integer "${key}"`, 'line');
  return v;
}

/** parseEventLine reads one line (1-based number n) into an event. */
function parseEventLine(line: string, what: string, n: number): RunEvent {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    throw new ParseError(what, n, 'a JSON object', 'line');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new ParseError(what, n, 'a JSON object', 'line');
  const o = doc as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string' || !(type in FIELDS)) {
    throw new ParseError(what, n, `"type" one of ${Object.keys(FIELDS).join(', ')}`, 'line');
  }
  const t = type as RunEvent['type'];
  const f: Partial<Record<string, number>> = Object.fromEntries(FIELDS[t].map((k) => [k, num(o, k, what, n)]));
  const record = num(o, 'record', what, n);
  const pid = (t === 'switch' ? f.to : t === 'fork' ? f.child : f.pid) ?? -1;
  const other = (t === 'switch' ? f.from : t === 'fork' ? f.parent : -1) ?? -1;
  const detail =
    t === 'fault' ? String(o.kind) : t === 'kill' ? String(o.reason) : t === 'exit' ? `code ${f.code ?? ''}` : '';
  return { type: t, record, pid, other, address: f.address ?? null, errorCode: f.errorCode ?? null, detail };
}

/** parseEvents reads a whole events file; blank lines are skipped. */
export function parseEvents(text: string, what: string): RunEvent[] {
  const out: RunEvent[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() !== '') out.push(parseEventLine(line, what, i + 1));
  });
  return out;
}
