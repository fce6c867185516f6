// pagelab: the package's main entry. Each layer is a namespace here and a
// subpath of its own (pagelab/hw, pagelab/boot, pagelab/kernel, pagelab/trace),
// so that equal names of two layers never meet.

export * as hw from './hw.js';
export * as boot from './boot.js';
export * as kernel from './kernel.js';
export * as trace from './trace.js';
export { PagelabError, ParseError } from '../errors.js';
