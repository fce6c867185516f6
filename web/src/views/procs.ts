// Processes: the events of a `pagelab run --events` file as a timeline, one
// lane per process (faults by kind, switches, forks, exits and kills), each
// process's totals, and the events themselves a page at a time.

import { PagelabError } from '../../../src/errors.js';
import { h, hex8 } from '../dom.js';
import { parseEvents, type RunEvent } from '../events.js';

let loaded: { name: string; events: RunEvent[] } | null = null;
let pageStart = 0;
const PAGE = 200;

const COLOR: Readonly<Record<string, string>> = {
  exec: '#1f5fbf',
  switch: '#9aa0a6',
  fork: '#2f8f8f',
  exit: '#5fa86b',
  kill: '#c0392b',
  zero: '#e0b34f',
  file: '#7a7fd8',
  stack: '#d98a2b',
  cow: '#c04fa0',
  protection: '#c0392b',
};

/** timeline draws one lane per process, events placed by their position in the file. */
function timeline(events: readonly RunEvent[]): HTMLElement {
  const pids = [...new Set(events.map((e) => e.pid))].sort((a, b) => a - b);
  const width = 1000;
  const lane = 18;
  const canvas = h('canvas', { id: 'proc-timeline', width, height: pids.length * lane + 4 });
  const g = canvas.getContext('2d');
  if (g !== null) {
    events.forEach((e, i) => {
      g.fillStyle = COLOR[e.type === 'fault' ? e.detail : e.type] ?? '#888';
      g.fillRect(Math.floor((i / Math.max(1, events.length)) * width), pids.indexOf(e.pid) * lane + 2, 2, lane - 4);
    });
  }
  return h(
    'div',
    { class: 'timeline' },
    h('div', { class: 'lanes' }, ...pids.map((p) => h('div', { style: `height:${lane}px` }, `pid ${p}`))),
    canvas,
  );
}

/** totals counts each process's events by type and fault kind. */
function totals(events: readonly RunEvent[]): HTMLElement {
  const by = new Map<number, Map<string, number>>();
  for (const e of events) {
    const m = by.get(e.pid) ?? new Map<string, number>();
    const key = e.type === 'fault' ? `fault ${e.detail}` : e.type;
    m.set(key, (m.get(key) ?? 0) + 1);
    by.set(e.pid, m);
  }
  const rows = [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([pid, m]) =>
      h(
        'tr',
        { 'data-pid': pid },
        h('td', {}, String(pid)),
        h('td', {}, [...m.entries()].map(([k, n]) => `${k} ${n}`).join(', ')),
      ),
    );
  return h('table', { id: 'proc-totals' }, h('tr', {}, h('th', {}, 'pid'), h('th', {}, 'events')), ...rows);
}

/** eventRows shows one page of events. */
function eventRows(events: readonly RunEvent[], rerender: () => void): HTMLElement {
  const rows = events
    .slice(pageStart, pageStart + PAGE)
    .map((e) =>
      h(
        'tr',
        {},
        h('td', {}, String(e.record)),
        h('td', {}, e.type),
        h('td', {}, String(e.pid)),
        h('td', {}, e.other >= 0 ? String(e.other) : ''),
        h('td', {}, e.address === null ? '' : hex8(e.address)),
        h('td', {}, e.errorCode === null ? '' : '0x' + e.errorCode.toString(16)),
        h('td', {}, e.detail),
      ),
    );
  const move = (d: number) => () => {
    pageStart = Math.max(0, Math.min(pageStart + d, Math.max(0, events.length - PAGE)));
    rerender();
  };
  return h(
    'div',
    {},
    h(
      'div',
      { class: 'controls' },
      h('button', { onclick: move(-PAGE), disabled: pageStart === 0 }, '◀'),
      `events ${pageStart + 1}–${Math.min(events.length, pageStart + PAGE)} of ${events.length}`,
      h('button', { onclick: move(PAGE), disabled: pageStart + PAGE >= events.length }, '▶'),
    ),
    h(
      'table',
      { id: 'proc-events' },
      h(
        'tr',
        {},
        ...['record', 'type', 'pid', 'from/parent', 'address', 'error code', 'detail'].map((t) => h('th', {}, t)),
      ),
      ...rows,
    ),
  );
}

/** procsView loads an events file and shows it. */
export function procsView(rerender: () => void): HTMLElement {
  const status = h(
    'p',
    { id: 'proc-status', role: 'status' },
    loaded === null ? 'no events loaded' : `${loaded.name}: ${loaded.events.length} events`,
  );
  const input = h('input', { type: 'file', id: 'proc-file', accept: '.jsonl,.json,.txt', 'aria-label': 'events file' });
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f === undefined) return;
    f.text().then(
      (text) => {
        try {
          loaded = { name: f.name, events: parseEvents(text, f.name) };
          pageStart = 0;
          rerender();
        } catch (e) {
          status.textContent = e instanceof PagelabError ? e.message : String(e);
          status.className = 'error';
        }
      },
      (e: unknown) => (status.textContent = String(e)),
    );
  });
  return h(
    'section',
    { class: 'view', id: 'view-procs' },
    h('h2', {}, 'Processes'),
    h(
      'p',
      {},
      'Load the events of ',
      h('code', {}, 'pagelab run LOG --events FILE'),
      ' (JSON lines: faults, switches, forks, exits, kills).',
    ),
    h('label', {}, 'events file ', input),
    status,
    loaded === null
      ? null
      : h('div', {}, timeline(loaded.events), totals(loaded.events), eventRows(loaded.events, rerender)),
  );
}
