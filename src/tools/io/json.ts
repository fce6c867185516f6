// JSON written a piece at a time: the same bytes as JSON.stringify(value, null, 2), with the outer levels of
// objects and arrays given element by element, so a document longer than one string may be still goes out whole.

/**
 * stringifyPieces yields JSON.stringify(value, null, 2) in pieces: objects and arrays down to `depth` levels are
 * opened element by element, anything deeper is one piece. Plain data only (no toJSON, no replacer).
 */
export function* stringifyPieces(value: unknown, depth = 2, indent = ''): Generator<string> {
  if (depth === 0 || value === null || typeof value !== 'object') {
    const text = JSON.stringify(value, null, 2) as string | undefined; // undefined for undefined and functions
    yield (text ?? 'null').replace(/\n/g, `\n${indent}`);
    return;
  }
  const inner = `${indent}  `;
  const array = Array.isArray(value);
  const entries: [string, unknown][] = array
    ? (value as unknown[]).map((v) => ['', v ?? null])
    : Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) {
    yield array ? '[]' : '{}';
    return;
  }
  yield array ? '[\n' : '{\n';
  for (let i = 0; i < entries.length; i++) {
    const [key, v] = entries[i];
    yield array ? inner : `${inner}${JSON.stringify(key)}: `;
    yield* stringifyPieces(v, depth - 1, inner);
    yield i + 1 < entries.length ? ',\n' : '\n';
  }
  yield `${indent}${array ? ']' : '}'}`;
}

/** jsonDocument is stringifyPieces followed by the newline that ends the output. */
export function* jsonDocument(value: unknown, depth = 2): Generator<string> {
  yield* stringifyPieces(value, depth);
  yield '\n';
}
