// The views still to come, behind one entry so main.ts stays small.

import { h } from '../dom.js';
import type { Session } from '../session.js';
import type { ViewName, ViewState } from '../state.js';
import type { Target } from '../target.js';

export interface ExtraContext {
  readonly session: Session;
  readonly target: Target;
  readonly state: ViewState;
  readonly setState: (patch: Partial<ViewState>) => void;
  readonly setDump: (t: Target | null) => void;
}

/** extraView renders the frames, TLB, dump and processes views. */
export function extraView(view: Exclude<ViewName, 'boot' | 'walk' | 'dir'>, ctx: ExtraContext): HTMLElement {
  return h('section', { class: 'view', id: `view-${view}` }, h('p', {}, `not yet (${ctx.target.label})`));
}
