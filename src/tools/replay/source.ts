// Reading trace files: lackey text or the binary form (by name: .bin,
// .bin.gz), each plain or gzip (by its magic bytes), streamed in chunks
// into a parser so that only the decoded typed arrays stay in memory.

import { createReadStream, createWriteStream, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import { createGunzip, createGzip } from 'node:zlib';
import { PassThrough, type Readable } from 'node:stream';
import { PagelabError, ParseError } from '../../errors.js';
import { BinaryParser, BinaryWriter } from './binary.js';
import { LackeyParser, type LackeyOptions } from './lackey.js';
import { TraceBuilder, type RecordSink, type SkipStats, type Trace } from './trace.js';
import { statOrNull } from '../outfile.js';

const CHUNK = 1 << 20;

export type TraceFormat = 'lackey' | 'binary';

export interface ConvertResult extends SkipStats {
  records: number;
  /** Records whose size exceeded the binary form's u8 and was stored as 255. */
  clampedSizes: number;
}

export interface ReadOptions {
  readonly lenient?: boolean;
  /** Called now and then with the compressed/plain bytes read so far and the file's size. */
  readonly onProgress?: (bytesRead: number, fileSize: number) => void;
}

/** formatOf decides the format from the file name: binary for .bin and .bin.gz. */
export function formatOf(path: string): TraceFormat {
  return /\.bin(\.gz)?$/i.test(path) ? 'binary' : 'lackey';
}

/**
 * sniffGzip waits for a stream's first chunk and tells whether it starts with
 * the gzip magic; the returned stream yields every byte, that chunk included.
 * No seek: pipes, /dev/stdin and process substitution work as files do.
 */
async function sniffGzip(raw: Readable): Promise<{ gz: boolean; stream: Readable }> {
  const first = await new Promise<Buffer | null>((resolve, reject) => {
    const done = (): void => {
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onError);
    };
    const onData = (c: Buffer): void => {
      raw.pause();
      done();
      resolve(c);
    };
    const onEnd = (): void => (done(), resolve(null));
    const onError = (e: Error): void => (done(), reject(e));
    raw.on('data', onData).once('end', onEnd).once('error', onError);
  });
  const src = new PassThrough({ highWaterMark: CHUNK });
  raw.on('error', (e) => src.destroy(e));
  if (first === null) return { gz: false, stream: src.end() };
  src.write(first);
  raw.pipe(src);
  return { gz: first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b, stream: src };
}

/** readTrace decodes a whole trace file into typed arrays. */
export async function readTrace(path: string, options: ReadOptions = {}): Promise<Trace> {
  const builder = new TraceBuilder();
  await parseFile(path, builder, builder, options);
  return builder.finish();
}

/**
 * convertTrace streams a trace (a file, or a stream of lackey text such as
 * valgrind's log pipe) into the binary form at `out` (gzip if it ends in .gz).
 * It writes a temporary file beside `out` and renames it at the end, so a
 * failed conversion leaves no partial output and `out` may not be the input.
 */
export async function convertTrace(
  input: string | Readable,
  out: string,
  options: ReadOptions = {},
): Promise<ConvertResult> {
  if (typeof input === 'string') checkDistinct(input, out);
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  try {
    const result = await convertInto(input, tmp, out, options);
    renameSync(tmp, out);
    return result;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** convertInto does convertTrace's work into the file `tmp` (`out` names it in errors). */
async function convertInto(
  input: string | Readable,
  tmp: string,
  out: string,
  options: ReadOptions,
): Promise<ConvertResult> {
  const file = createWriteStream(tmp);
  /** The first write error, set by the streams' error events (a holder: a closure writes it). */
  const state: { failure: Error | null } = { failure: null };
  const fail = (e: Error): void => {
    state.failure ??= new PagelabError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? e.message}`);
  };
  file.on('error', fail);
  const gzip = /\.gz$/i.test(out) ? createGzip() : null;
  const dest = gzip ?? file;
  if (gzip !== null) gzip.on('error', fail).pipe(file);
  const pending: Uint8Array[] = [];
  const writer = new BinaryWriter((bytes) => pending.push(bytes));
  const drain = async (): Promise<void> => {
    for (const bytes of pending.splice(0)) {
      if (state.failure !== null) throw state.failure;
      if (!dest.write(bytes)) await Promise.race([once(dest, 'drain'), once(file, 'close')]);
    }
  };
  const stats: SkipStats = { commentLines: 0, badLines: 0, firstBadLine: 0 };
  try {
    if (typeof input === 'string') await parseFile(input, writer, stats, options, drain);
    else
      await parseStream(
        input,
        'lackey text stream',
        new LackeyParser(writer, skipOptions(stats, options)),
        null,
        drain,
      );
    writer.flush();
    await drain();
    dest.end();
    if (!file.closed) await once(file, 'close');
  } catch (e) {
    file.destroy();
    if (!file.closed) await once(file, 'close'); // the file may be created only now: the caller removes it after
    throw state.failure ?? e;
  }
  if (state.failure !== null) throw state.failure;
  return { records: writer.records, clampedSizes: writer.clampedSizes, ...stats };
}

/** checkDistinct refuses to convert a file into itself (the output would truncate the input before it is read). */
function checkDistinct(input: string, out: string): void {
  const a = statOrNull(input);
  const b = statOrNull(out);
  if (a !== null && b !== null && a.dev === b.dev && a.ino === b.ino) {
    throw new PagelabError(`trace convert: ${out} is the input file itself; choose another output`);
  }
}

/**
 * parseFile streams `path` through the parser its format needs into sink;
 * `between` runs after each chunk (backpressure for writers).
 */
async function parseFile(
  path: string,
  sink: RecordSink,
  stats: SkipStats,
  options: ReadOptions,
  between?: () => Promise<void>,
): Promise<void> {
  const size = inputSize(path);
  let read = 0;
  const { raw, gz, stream, compressedRead } = await openInputStream(path, (n) => (read += n));
  const parser =
    formatOf(path) === 'binary' ? new BinaryParser(sink) : new LackeyParser(sink, skipOptions(stats, options));
  const afterChunk = async (): Promise<void> => {
    options.onProgress?.(read, size);
    if (between !== undefined) await between();
  };
  try {
    await parseStream(stream, path, parser, gz ? compressedRead : null, afterChunk);
  } finally {
    raw.destroy();
  }
}

/**
 * parseStream feeds every chunk of a stream to the parser, naming `name` in
 * errors (and where in the compressed bytes, from gzAt, when it is gzip); afterChunk runs after each chunk (progress,
 * backpressure).
 */
async function parseStream(
  stream: Readable,
  name: string,
  parser: BinaryParser | LackeyParser,
  gzAt: (() => number) | null,
  afterChunk?: () => Promise<void>,
): Promise<void> {
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parser.push(chunk);
      if (afterChunk !== undefined) await afterChunk();
    }
    parser.end();
  } catch (e) {
    throw fileError(name, gzAt === null ? null : gzAt(), e);
  }
}

/**
 * fileError names the file in a parse error, and turns stream errors into a PagelabError; `gzAt` is where in the
 * compressed bytes a gzip error came (null: not gzip).
 */
function fileError(path: string, gzAt: number | null, e: unknown): Error {
  if (e instanceof ParseError) return new ParseError(`${path} (${e.what})`, e.offset, e.expected, e.unit);
  if (e instanceof PagelabError) return e;
  const message = (e as Error).message;
  if (gzAt === null) return new PagelabError(`${path}: read failed: ${message}`);
  const at = `0x${gzAt.toString(16)} (${gzAt})`;
  if ((e as NodeJS.ErrnoException).code === 'Z_BUF_ERROR')
    return new PagelabError(`${path}: the gzip data ends at compressed offset ${at} before its end: truncated?`);
  return new PagelabError(`${path}: bad gzip data in the compressed bytes up to offset ${at}: ${message}`);
}

/** skipOptions makes the text parser count skipped lines into stats. */
function skipOptions(stats: SkipStats, options: ReadOptions): LackeyOptions {
  return {
    lenient: options.lenient ?? false,
    onSkip: (line, malformed) => {
      if (!malformed) stats.commentLines++;
      else if (stats.badLines++ === 0) stats.firstBadLine = line;
    },
  };
}

/**
 * openInputStream opens a file, pipe or device (`-`: standard input) for streaming, gzip undone when its first
 * bytes say so; `onBytes` counts the raw bytes read, `compressedRead` gives those handed to the gunzip so far. The
 * caller destroys `raw` when done.
 */
export async function openInputStream(
  path: string,
  onBytes?: (n: number) => void,
): Promise<{ raw: Readable; gz: boolean; stream: Readable; compressedRead: () => number }> {
  const raw = path === '-' ? process.stdin : createReadStream('', { fd: openFile(path), highWaterMark: CHUNK });
  if (onBytes !== undefined) raw.on('data', (c: Buffer | string) => onBytes(c.length));
  const sniffed = await sniffGzip(raw).catch((e: unknown) => {
    throw fileError(path, null, e);
  });
  const stream = sniffed.gz ? sniffed.stream.pipe(createGunzip({ chunkSize: CHUNK })) : sniffed.stream;
  sniffed.stream.on('error', (e) => stream.destroy(e));
  const fed = { bytes: 0 }; // what the gunzip has been given: a gzip error lies in the chunk that ends there
  if (sniffed.gz) sniffed.stream.on('data', (c: Buffer) => (fed.bytes += c.length));
  return { raw, gz: sniffed.gz, stream, compressedRead: () => fed.bytes };
}

/** inputSize is a regular file's size, 0 for a pipe or device (its length is not known in advance). */
function inputSize(path: string): number {
  if (path === '-') return 0;
  const st = statSync(path, { throwIfNoEntry: false });
  return st?.isFile() === true ? st.size : 0;
}

/** openFile opens a trace for reading, with a user error naming it when it cannot be. */
function openFile(path: string): number {
  try {
    if (statSync(path).isDirectory()) throw new PagelabError(`cannot open trace ${path}: it is a directory`);
    return openSync(path, 'r');
  } catch (e) {
    if (e instanceof PagelabError) throw e;
    throw new PagelabError(`cannot open trace ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** readRecords streams every record of a trace file (either format, plain or gzip) into `sink`. */
export async function readRecords(path: string, sink: RecordSink, options: ReadOptions = {}): Promise<SkipStats> {
  const stats: SkipStats = { commentLines: 0, badLines: 0, firstBadLine: 0 };
  await parseFile(path, sink, stats, options);
  return stats;
}
