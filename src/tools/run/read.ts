// Reading process logs from files (plain or gzip, streamed in chunks) and finding the program each one ran.

import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { PagelabError, ParseError } from '../../errors.js';
import { openInputStream } from '../replay/source.js';
import { ProcessLogParser, type ProcessLog } from './log.js';

/** readProcessLog parses one log (a file, pipe or `-`; gzip recognised by its first bytes) without holding its text. */
export async function readProcessLog(path: string): Promise<ProcessLog> {
  const { raw, gz, stream } = await openInputStream(path);
  const parser = new ProcessLogParser(path);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) parser.push(chunk);
    parser.end();
    return parser.log();
  } catch (e) {
    if (e instanceof PagelabError) throw e;
    throw new PagelabError(`${path}: ${gz ? 'bad gzip data' : 'read failed'}: ${(e as Error).message}`);
  } finally {
    raw.destroy();
  }
}

/** parseProcessLog parses a log held in memory (tests, small tools). */
export function parseProcessLog(text: string | Uint8Array, name = 'process log'): ProcessLog {
  const parser = new ProcessLogParser(name);
  parser.push(typeof text === 'string' ? new TextEncoder().encode(text) : text);
  parser.end();
  return parser.log();
}

/**
 * findElf resolves the program of a log's `Command:` line: an absolute path as it is, a relative one against the
 * log's folder, then the folder above it (logs kept in a `logs/` folder beside the program), then the current one.
 */
export function findElf(logPath: string, log: ProcessLog): string {
  if (log.argv.length === 0) throw new ParseError(logPath, 1, "a '==PID== Command:' line (or give --elf FILE)", 'line');
  const program = log.argv[0];
  const here = dirname(logPath);
  const tries = isAbsolute(program)
    ? [program]
    : [resolve(here, program), resolve(here, '..', program), resolve(program)];
  for (const t of tries) if (existsSync(t) && statSync(t).isFile()) return t;
  throw new PagelabError(`${logPath}: cannot find the program ${program} (tried ${tries.join(', ')}); give --elf FILE`);
}
