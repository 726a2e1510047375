import type { ConditionEntry, ProcedureEntry } from './record.js';

/** The derived facts of clinical policy §2. */
export interface PatientState {
  /** CORD conditions that are active or suspected and not treated. */
  readonly cord: readonly ConditionEntry[];
  /** Active or suspected red flags (only meaningful with `flaggedWith`). */
  readonly redFlags: readonly ConditionEntry[];
  /** STENOSIS or RADICULOPATHY conditions (any status but ignored) that make the red flags count. */
  readonly flaggedWith: readonly ConditionEntry[];
  readonly flagged: boolean;
  /** STENOSIS conditions (active, suspected or historical) not treated. */
  readonly untreatedStenosis: readonly ConditionEntry[];
  /** CORD and STENOSIS conditions present (not ignored). */
  readonly cordOrStenosis: readonly ConditionEntry[];
  /** Every CORD and STENOSIS condition present is treated (and at least one is present). */
  readonly allTreated: boolean;
  /** Decompressions that date after a condition's onset. */
  readonly decompressions: readonly ProcedureEntry[];
  /** Decompressions recorded but not usable because a date is missing. */
  readonly undatedDecompressions: readonly ProcedureEntry[];
  readonly malignant: readonly ConditionEntry[];
}

const isCurrent = (c: ConditionEntry) => c.status === 'active' || c.status === 'suspected';
const isPresent = (c: ConditionEntry) => c.status !== 'ignored';

/**
 * Clinical policy §2 "treated", judged per class: a completed decompression dated on or after the
 * onset (the latest possible onset day against the earliest possible procedure day); a historical
 * condition counts as treated as CORD, not as STENOSIS.
 */
export function isTreated(condition: ConditionEntry, cls: 'CORD' | 'STENOSIS', decompressions: readonly ProcedureEntry[]): boolean {
  if (cls === 'CORD' && condition.status === 'historical') return true;
  const onset = condition.onset;
  if (!onset) return false;
  return decompressions.some((p) => p.performed !== undefined && p.performed.earliest >= onset.latest);
}

export function derivePatientState(conditions: readonly ConditionEntry[], procedures: readonly ProcedureEntry[]): PatientState {
  const completed = procedures.filter((p) => p.completed && p.classes.has('DECOMPRESSED'));
  const present = conditions.filter(isPresent);
  const cordOrStenosis = present.filter((c) => c.classes.has('CORD') || c.classes.has('STENOSIS'));
  const cordTreated = new Set(present.filter((c) => c.classes.has('CORD') && isTreated(c, 'CORD', completed)));
  const stenosisTreated = new Set(present.filter((c) => c.classes.has('STENOSIS') && isTreated(c, 'STENOSIS', completed)));
  const treatedInEveryClass = (c: ConditionEntry) =>
    (!c.classes.has('CORD') || cordTreated.has(c)) && (!c.classes.has('STENOSIS') || stenosisTreated.has(c));

  const cord = present.filter((c) => c.classes.has('CORD') && isCurrent(c) && !cordTreated.has(c));
  const redFlags = present.filter((c) => c.classes.has('RED_FLAG') && isCurrent(c));
  const flaggedWith = present.filter((c) => c.classes.has('STENOSIS') || c.classes.has('RADICULOPATHY'));
  const untreatedStenosis = present.filter((c) => c.classes.has('STENOSIS') && !stenosisTreated.has(c));
  const usedDecompressions = completed.filter((p) =>
    cordOrStenosis.some((c) => c.onset !== undefined && p.performed !== undefined && p.performed.earliest >= c.onset.latest),
  );
  return {
    cord,
    redFlags,
    flaggedWith,
    flagged: redFlags.length > 0 && flaggedWith.length > 0,
    untreatedStenosis,
    cordOrStenosis,
    allTreated: cordOrStenosis.length > 0 && cordOrStenosis.every(treatedInEveryClass),
    decompressions: usedDecompressions,
    undatedDecompressions: completed.filter((p) => !usedDecompressions.includes(p)),
    malignant: present.filter((c) => c.classes.has('MALIGNANT') && isCurrent(c)),
  };
}
