// src/tools/inspect/qemu.ts (reached through the inspector's scan) builds its
// text tables with Node's Buffer when it loads; the page gives it the browser
// implementation of the same API (the `buffer` package) before any of src/ runs.

import { Buffer } from 'buffer';

const g = globalThis as { Buffer?: unknown };
g.Buffer ??= Buffer;
