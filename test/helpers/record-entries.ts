import { readDay } from '../../src/fhir/dates.js';
import type { KnowledgeClass } from '../../src/knowledge/classes.js';
import type { ConditionEntry, ConditionStatus, ProcedureEntry } from '../../src/rules/record.js';

/** A Condition as the rules see it, built by hand for rule tests. */
export function conditionEntry(classes: readonly KnowledgeClass[], options: { status?: ConditionStatus; onset?: string | undefined } = {}): ConditionEntry {
  return {
    kind: 'Condition',
    id: undefined,
    label: classes.join(' + '),
    classes: new Set(classes),
    matchedBy: 'code',
    codings: [],
    status: options.status ?? 'active',
    regionUnknown: false,
    onset: readDay('onset' in options ? options.onset : '2024-03-10'),
    abatedOn: undefined,
  };
}

/** A cervical decompression Procedure as the rules see it. */
export function decompressionEntry(performed: string | undefined, completed = true): ProcedureEntry {
  return {
    kind: 'Procedure',
    label: 'Cervical decompression',
    classes: new Set<KnowledgeClass>(['DECOMPRESSED']),
    matchedBy: 'code',
    codings: [],
    completed,
    performed: readDay(performed),
  };
}
