#!/usr/bin/env node
// The `pagelab` command: runs the compiled CLI (built into dist/ by `npm install`'s prepare step).
import '../dist/src/tools/bin.js';
