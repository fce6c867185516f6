// Physical memory: every frame of RAM as one cell of a canvas coloured by its
// owner (one element however large the RAM: 4 GiB is a million cells), a
// click zooms to that frame's 4096 bytes, and beside it the frame allocator's
// own structure as it lies in RAM (its header words and the bitmap word that
// holds the frame's bit).

import { h, hex8 } from '../dom.js';
import { frameMap, KINDS } from '../framemap.js';
import type { Session } from '../session.js';

const COLORS = ['#e8e8e2', '#1f5fbf', '#7a7fd8', '#d98a2b', '#e0b34f', '#2f8f8f', '#c04fa0', '#555a60', '#5fa86b'];

let cached: { session: Session; map: Uint8Array } | null = null;

/** mapOf classifies the frames once per session (the demos change few frames; reload to redo). */
function mapOf(s: Session): Uint8Array {
  if (cached?.session !== s) cached = { session: s, map: frameMap(s) };
  return cached.map;
}

/** drawMap paints one cell per frame, `cols` frames a row. */
function drawMap(map: Uint8Array, cols: number, px: number, select: (f: number) => void): HTMLCanvasElement {
  const rows = Math.ceil(map.length / cols);
  const canvas = h('canvas', {
    id: 'frame-map',
    width: cols * px,
    height: rows * px,
    'aria-label': 'frame map: click a frame',
  });
  const g = canvas.getContext('2d');
  if (g !== null) {
    for (let f = 0; f < map.length; f++) {
      g.fillStyle = COLORS[map[f]];
      g.fillRect((f % cols) * px, Math.floor(f / cols) * px, px, px);
    }
  }
  canvas.addEventListener('click', (ev) => {
    const r = canvas.getBoundingClientRect();
    const f = Math.floor((ev.clientY - r.top) / px) * cols + Math.floor((ev.clientX - r.left) / px);
    if (f >= 0 && f < map.length) select(f);
  });
  return canvas;
}

/** hexDump shows a frame's bytes, 16 a line. */
function hexDump(s: Session, frame: number): HTMLElement {
  const mem = s.machine.mem;
  const base = frame * 4096;
  const lines: string[] = [];
  for (let off = 0; off < 4096; off += 16) {
    const bytes = Array.from({ length: 16 }, (_, i) => mem.read8(base + off + i));
    const text = bytes.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${hex8(base + off).slice(2)}  ${bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')}  ${text}`);
  }
  return h('pre', { id: 'frame-bytes', class: 'hexdump' }, lines.join('\n'));
}

/** allocatorView shows the allocator's header words in RAM and, for the bitmap, the frame's word. */
function allocatorView(s: Session, frame: number | null): HTMLElement {
  const fa = s.report.kernel.frames;
  const mem = s.machine.mem;
  const base = fa.metadata.base;
  const names = [
    'magic',
    'strategy',
    'max_pfn',
    'nranges',
    'map address',
    'map size',
    'nfree',
    'nusable',
    'strategy word 0x20',
  ];
  const rows = names.map((n, i) =>
    h(
      'tr',
      {},
      h('td', {}, h('code', {}, hex8(base + i * 4))),
      h('td', {}, n),
      h('td', {}, h('code', {}, hex8(mem.read32(base + i * 4)))),
    ),
  );
  const stats = fa.stats();
  const extra: HTMLElement[] = [];
  if (frame !== null && fa.strategy === 'bitmap') {
    const map = mem.read32(base + 0x10);
    const word = map + Math.floor(frame / 32) * 4;
    extra.push(
      h(
        'p',
        {},
        `frame ${frame} is bit ${frame % 32} of the bitmap word at ${hex8(word)} = ${hex8(mem.read32(word))} (1 = in use)`,
      ),
    );
  }
  return h(
    'div',
    { class: 'card', id: 'allocator' },
    h(
      'div',
      { class: 'card-title' },
      `frame allocator (${fa.strategy}), header at ${hex8(base)}: ${stats.free} of ${stats.usable} frames free`,
    ),
    h('table', {}, ...rows),
    ...extra,
  );
}

/** framesView renders the legend, the map and the zoomed frame. */
export function framesView(s: Session, frame: number | null, select: (f: number) => void): HTMLElement {
  const map = mapOf(s);
  const counts = new Array<number>(KINDS.length).fill(0);
  for (const k of map) counts[k]++;
  const legend = h(
    'div',
    { class: 'legend' },
    ...KINDS.map(([k, text], i) =>
      h(
        'span',
        { class: 'legend-item', 'data-kind': k, 'data-count': counts[i] },
        h('span', { class: 'swatch', style: `background:${COLORS[i]}` }),
        `${text} (${counts[i]})`,
      ),
    ),
  );
  const cols = map.length <= 65536 ? 256 : 1024;
  const px = map.length <= 65536 ? 3 : 1;
  const detail =
    frame === null || frame >= map.length
      ? h('p', {}, 'Click a frame to see its bytes.')
      : h(
          'div',
          {},
          h('h3', { id: 'frame-title' }, `frame ${frame} at ${hex8(frame * 4096)}: ${KINDS[map[frame]][1]}`),
          hexDump(s, frame),
        );
  return h(
    'section',
    { class: 'view', id: 'view-frames' },
    h('h2', {}, `Physical memory: ${map.length} frames of the booted machine`),
    legend,
    h('div', { class: 'frames-grid' }, h('div', {}, drawMap(map, cols, px, select), allocatorView(s, frame)), detail),
  );
}
