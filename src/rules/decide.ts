import type { OrderEntry } from './order.js';
import type { PatientState } from './patient-state.js';

export type CardId =
  | 'cord-compression-manual-therapy'
  | 'cervical-stenosis-manipulation'
  | 'cervical-stenosis-massage'
  | 'cervical-stenosis-remote-site'
  | 'post-decompression-clearance';

/** The decision for one order: the first row of clinical policy §4 that applies. */
export interface Decision {
  readonly row: 1 | 2 | 3 | 4 | 5;
  readonly cardId: CardId;
}

/** Clinical policy §4, the decision table. Pure: the same state and order always give the same row. */
export function decide(state: PatientState, order: OrderEntry): Decision | undefined {
  if (order.classes.size === 0) return undefined;
  if (state.cord.length > 0 || state.flagged) return { row: 1, cardId: 'cord-compression-manual-therapy' };
  if (state.untreatedStenosis.length > 0) {
    if (order.site === 'remote') return { row: 4, cardId: 'cervical-stenosis-remote-site' };
    if (order.classes.has('MANIPULATION')) return { row: 2, cardId: 'cervical-stenosis-manipulation' };
    return { row: 3, cardId: 'cervical-stenosis-massage' };
  }
  if (state.allTreated) return { row: 5, cardId: 'post-decompression-clearance' };
  return undefined;
}
