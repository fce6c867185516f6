// Writing a long output piece by piece: small pieces gathered into blocks, each written when the stream has room
// (backpressure), so an output larger than one string may be, or than memory should hold, goes out whole.

const BLOCK = 1 << 16;

/** writePieces writes every piece to `s` in order, waiting for room; stops early if the stream fails or closes. */
export async function writePieces(s: NodeJS.WritableStream, pieces: Iterable<string>): Promise<void> {
  let block = '';
  for (const piece of pieces) {
    block += piece;
    if (block.length < BLOCK) continue;
    if (!(await writeBlock(s, block))) return;
    block = '';
  }
  if (block !== '') await writeBlock(s, block);
}

/** writeBlock writes one block; when the stream is full it waits for 'drain'; false once the stream is gone. */
function writeBlock(s: NodeJS.WritableStream, block: string): Promise<boolean> {
  if (!s.writable) return Promise.resolve(false);
  if (s.write(block)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      s.off('drain', onDrain);
      s.off('error', onEnd);
      s.off('close', onEnd);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onEnd = (): void => done(false);
    s.on('drain', onDrain);
    s.on('error', onEnd);
    s.on('close', onEnd);
  });
}
