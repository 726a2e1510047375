import type { OrderEntry } from './order.js';
import type { PatientState } from './patient-state.js';
import type { ConditionEntry, ProcedureEntry } from './record.js';

/**
 * The rows of the decision table (clinical policy §4) and the wording variants each can ask of
 * its card. The card templates are checked against this at start-up: one template per row, and
 * each template declares exactly the variants of its row.
 */
export const ROW_VARIANTS = {
  1: ['flagged', 'malignant'],
  2: [],
  3: [],
  4: [],
  5: ['resolved-without-surgery'],
} as const satisfies Record<number, readonly string[]>;

export type PolicyRow = keyof typeof ROW_VARIANTS;
export type RowVariant = (typeof ROW_VARIANTS)[PolicyRow][number];
export const POLICY_ROWS: readonly PolicyRow[] = [1, 2, 3, 4, 5];

/** Safer readings the rules take where the record is vague (clinical policy: "How this was read"). */
export const SAFER_READINGS = [
  'site-absent',
  'site-unrecognised',
  'suspected-counts',
  'region-unknown',
  'history-of-stenosis',
  'undated-decompression',
  'red-flag-as-cord',
] as const;
export type SaferReading = (typeof SAFER_READINGS)[number];

/** The classes a card may name a condition or an order by. */
export const NAMED_CLASSES = ['CORD', 'STENOSIS', 'RADICULOPATHY', 'RED_FLAG', 'MASSAGE', 'MANUAL', 'MANIPULATION'] as const;
export type NamedClass = (typeof NAMED_CLASSES)[number];

/** A condition the card names, and the class it is named for. */
export interface NamedCondition {
  readonly entry: ConditionEntry;
  readonly as: NamedClass;
}

/** The decision for one order: the first row of clinical policy §4 that applies, with the facts its card words. */
export interface Decision {
  readonly row: PolicyRow;
  /** Wording variants, applied in this order over the row's base wording. */
  readonly variants: readonly RowVariant[];
  /** The conditions the card names, in the order the summary names them. */
  readonly named: readonly NamedCondition[];
  /** Every condition behind the decision (named ones first), listed on the card and given as the reason of created orders. */
  readonly matched: readonly ConditionEntry[];
  /** Decompressions the card lists. */
  readonly procedures: readonly ProcedureEntry[];
  readonly readings: readonly SaferReading[];
}

const isSuspectedCordOrFlag = (c: ConditionEntry) => c.status === 'suspected' && (c.classes.has('CORD') || c.classes.has('RED_FLAG'));

function commonReadings(matched: readonly ConditionEntry[]): SaferReading[] {
  const readings: SaferReading[] = [];
  if (matched.some(isSuspectedCordOrFlag)) readings.push('suspected-counts');
  if (matched.some((c) => c.regionUnknown)) readings.push('region-unknown');
  return readings;
}

const namedAs = (entries: readonly ConditionEntry[], as: NamedClass): NamedCondition[] => entries.slice(0, 1).map((entry) => ({ entry, as }));

function rowOne(state: PatientState): Decision {
  const flagged = state.cord.length === 0;
  const [flag] = state.redFlags;
  const [spinal] = state.flaggedWith;
  const named: NamedCondition[] = [];
  if (!flagged && state.cord[0]) named.push({ entry: state.cord[0], as: 'CORD' });
  if (flagged && flag) named.push({ entry: flag, as: 'RED_FLAG' });
  if (flagged && spinal) named.push({ entry: spinal, as: spinal.classes.has('STENOSIS') ? 'STENOSIS' : 'RADICULOPATHY' });
  const trigger = flagged ? [...state.redFlags, ...state.flaggedWith] : state.cord;
  // The malignant context comes right after the named conditions: the card lists entries in this order and drops from the end.
  const matched = [...new Set([...named.map((n) => n.entry), ...state.malignant, ...trigger])];
  const variants: RowVariant[] = [];
  if (flagged) variants.push('flagged');
  if (state.malignant.length > 0) variants.push('malignant');
  // Why the row fired comes first: the card drops readings from the end when its detail would run long.
  const readings: SaferReading[] = flagged ? ['red-flag-as-cord'] : [];
  readings.push(...commonReadings(matched));
  return { row: 1, variants, named, matched, procedures: [], readings };
}

function stenosisRow(row: 2 | 3 | 4, state: PatientState, order: OrderEntry): Decision {
  const matched = state.untreatedStenosis;
  const readings: SaferReading[] = [];
  if (row !== 4 && order.siteBasis === 'absent') readings.push('site-absent');
  if (row !== 4 && order.siteBasis === 'unrecognised') readings.push('site-unrecognised');
  readings.push(...commonReadings(matched));
  if (matched.some((c) => c.status === 'historical')) readings.push('history-of-stenosis');
  if (state.undatedDecompressions.length > 0) readings.push('undated-decompression');
  return { row, variants: [], named: namedAs(matched, 'STENOSIS'), matched, procedures: state.undatedDecompressions, readings };
}

function rowFive(state: PatientState): Decision {
  const matched = state.cordOrStenosis;
  const variants: RowVariant[] = state.decompressions.length === 0 ? ['resolved-without-surgery'] : [];
  const [first] = matched;
  const named = first ? namedAs([first], first.classes.has('CORD') ? 'CORD' : 'STENOSIS') : [];
  return { row: 5, variants, named, matched, procedures: state.decompressions, readings: commonReadings(matched) };
}

/** Clinical policy §4, the decision table. Pure: the same state and order always give the same decision. */
export function decide(state: PatientState, order: OrderEntry): Decision | undefined {
  if (order.classes.size === 0) return undefined;
  if (state.cord.length > 0 || state.flagged) return rowOne(state);
  if (state.untreatedStenosis.length > 0) {
    if (order.site === 'remote') return stenosisRow(4, state, order);
    if (order.classes.has('MANIPULATION')) return stenosisRow(2, state, order);
    return stenosisRow(3, state, order);
  }
  if (state.allTreated) return rowFive(state);
  return undefined;
}
