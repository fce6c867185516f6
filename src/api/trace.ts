// pagelab/trace: the public face of the trace tools (src/tools/replay).
// Reading valgrind lackey text and pagelab's binary traces (files, plain or
// gzip; or chunk by chunk through the parsers), converting between them, and
// replaying a decoded trace through the machine's MMU and TLB (one geometry,
// or a sweep over several on worker threads); reading the process logs of valgrind's
// --trace-syscalls=yes and running them on the kernel (src/tools/run, `pagelab run`).
// Everything named here is a contract.

export { PagelabError, ParseError } from '../errors.js';
export type { BareCounters } from '../tools/replay/bare.js';
export { BinaryParser, BinaryWriter, RECORD_BYTES } from '../tools/replay/binary.js';
export { LackeyParser, type LackeyOptions } from '../tools/replay/lackey.js';
export { replay, type ReplayOptions, type ReplayResult } from '../tools/replay/replay.js';
export {
  convertTrace,
  formatOf,
  readTrace,
  type ConvertResult,
  type ReadOptions,
  type TraceFormat,
} from '../tools/replay/source.js';
export { parseSweep, sweep } from '../tools/replay/sweep.js';
export {
  KIND_I,
  KIND_L,
  KIND_M,
  KIND_S,
  TraceBuilder,
  accessKindOf,
  traceFromRecords,
  type KindCounts,
  type RecordSink,
  type SkipStats,
  type Trace,
} from '../tools/replay/trace.js';
export { ProcessLogParser, type ProcessLog, type SignalDeath, type Syscall } from '../tools/run/log.js';
export { parseProcessLog, readProcessLog } from '../tools/run/read.js';
export type { RunJson, RunProcessJson } from '../tools/run/report.js';
export { runLogs, type RunOptions, type RunResult } from '../tools/run/run.js';
