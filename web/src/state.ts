// The view state and its URL form: everything needed to reopen a view (which
// view, the walk's address and access, the boot step, the open PDE) lives in
// the location hash, so a walk can be shared as a link.

export type ViewName = 'boot' | 'walk' | 'dir' | 'frames' | 'tlb' | 'dump' | 'procs';

export const VIEWS: readonly { readonly name: ViewName; readonly title: string; readonly key: string }[] = [
  { name: 'boot', title: 'Boot', key: '1' },
  { name: 'walk', title: 'Walk', key: '2' },
  { name: 'dir', title: 'Tables', key: '3' },
  { name: 'frames', title: 'Frames', key: '4' },
  { name: 'tlb', title: 'TLB', key: '5' },
  { name: 'dump', title: 'Your dump', key: '6' },
  { name: 'procs', title: 'Processes', key: '7' },
];

export interface ViewState {
  readonly view: ViewName;
  readonly step: number;
  readonly addr: number;
  readonly access: 'read' | 'write' | 'fetch';
  readonly user: boolean;
  readonly pde: number | null;
  readonly frame: number | null;
}

export const DEFAULT_STATE: ViewState = {
  view: 'boot',
  step: 0,
  addr: 0xc0100000,
  access: 'read',
  user: false,
  pde: null,
  frame: null,
};

/** intParam reads a decimal or 0x-hex parameter within [0, max], else the fallback. */
function intParam(p: URLSearchParams, key: string, max: number): number | null {
  const t = p.get(key);
  if (t === null || !/^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(t)) return null;
  const v = Number(t);
  return v <= max ? v : null;
}

/** parseHash reads a view state from a location hash; unknown or bad parts keep their defaults. */
export function parseHash(hash: string): ViewState {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const view = VIEWS.find((v) => v.name === p.get('view'))?.name ?? DEFAULT_STATE.view;
  const access = p.get('access');
  return {
    view,
    step: intParam(p, 'step', 64) ?? DEFAULT_STATE.step,
    addr: intParam(p, 'addr', 0xffffffff) ?? DEFAULT_STATE.addr,
    access: access === 'write' || access === 'fetch' ? access : 'read',
    user: p.get('user') === '1',
    pde: intParam(p, 'pde', 1023),
    frame: intParam(p, 'frame', 0xfffff),
  };
}

/** toHash writes the parts of a state that its view uses. */
export function toHash(s: ViewState): string {
  const p = new URLSearchParams({ view: s.view });
  if (s.view === 'boot') p.set('step', String(s.step));
  if (s.view === 'walk') {
    p.set('addr', '0x' + s.addr.toString(16).toUpperCase().padStart(8, '0'));
    p.set('access', s.access);
    p.set('user', s.user ? '1' : '0');
  }
  if (s.view === 'dir' && s.pde !== null) p.set('pde', String(s.pde));
  if (s.view === 'frames' && s.frame !== null) p.set('frame', String(s.frame));
  return '#' + p.toString();
}
