import type { KnowledgeClass } from '../knowledge/classes.js';
import type { Knowledge } from '../knowledge/load-knowledge.js';
import { readDay, type DayRange } from '../fhir/dates.js';
import { firstConceptText, isObject, someStatusCode, statusCode, str, type Coding, type JsonObject } from '../fhir/json.js';
import { classifyCode } from './classify.js';

export type ConditionStatus = 'active' | 'suspected' | 'historical' | 'ignored';

const CONDITION_TEXT_CLASSES = ['CORD', 'STENOSIS', 'RADICULOPATHY', 'RED_FLAG', 'MALIGNANT'] as const;
const PROCEDURE_TEXT_CLASSES = ['DECOMPRESSED'] as const;

/** A Condition as the rules see it. */
export interface ConditionEntry {
  readonly kind: 'Condition';
  readonly id: string | undefined;
  /** The record's own name for it (code.text, else a coding display); the card names it from the knowledge otherwise. */
  readonly label: string | undefined;
  readonly classes: ReadonlySet<KnowledgeClass>;
  readonly matchedBy: 'code' | 'text';
  readonly codings: readonly Coding[];
  readonly status: ConditionStatus;
  readonly regionUnknown: boolean;
  /** onsetDateTime, else onsetPeriod.start, else recordedDate. */
  readonly onset: DayRange | undefined;
  readonly abatedOn: string | undefined;
}

/** A Procedure as the rules see it. */
export interface ProcedureEntry {
  readonly kind: 'Procedure';
  readonly label: string | undefined;
  readonly classes: ReadonlySet<KnowledgeClass>;
  readonly matchedBy: 'code' | 'text';
  readonly codings: readonly Coding[];
  readonly completed: boolean;
  /** performedDateTime, else performedPeriod.start. */
  readonly performed: DayRange | undefined;
}

const IGNORED_VERIFICATION = new Set(['entered-in-error', 'refuted']);
const HISTORICAL_CLINICAL = new Set(['inactive', 'remission', 'resolved']);
const SUSPECTED_VERIFICATION = new Set(['unconfirmed', 'provisional', 'differential']);
/** The FHIR condition-clinical codes. */
const CLINICAL_CODES = new Set(['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved']);
/** The statuses without an abatement to show, made once. */
const IGNORED = Object.freeze({ status: 'ignored' as const, abatedOn: undefined });
const HISTORICAL = Object.freeze({ status: 'historical' as const, abatedOn: undefined });
const SUSPECTED = Object.freeze({ status: 'suspected' as const, abatedOn: undefined });
const ACTIVE = Object.freeze({ status: 'active' as const, abatedOn: undefined });
const isIgnored = (code: string): boolean => IGNORED_VERIFICATION.has(code);
const isHistorical = (code: string): boolean => HISTORICAL_CLINICAL.has(code);
const isClinical = (code: string): boolean => CLINICAL_CODES.has(code);
const isSuspected = (code: string): boolean => SUSPECTED_VERIFICATION.has(code);

/**
 * The abatement of a Condition with no clinicalStatus, when it is not in the future (clinical
 * policy §1). Returns the text to show, or undefined when there is no past abatement.
 */
function pastAbatement(resource: JsonObject, todayIso: string): string | undefined {
  const dateTime = readDay(resource['abatementDateTime']);
  if (dateTime) return dateTime.latest <= todayIso ? dateTime.written : undefined;
  const period = resource['abatementPeriod'];
  if (isObject(period)) {
    const day = readDay(period['end']) ?? readDay(period['start']);
    return day && day.latest <= todayIso ? day.written : undefined;
  }
  if (resource['abatementAge'] !== undefined || resource['abatementRange'] !== undefined) return 'in the past';
  // STU3: true says the condition has abated, false that it has not.
  if (resource['abatementBoolean'] === true) return 'in the past';
  const text = str(resource['abatementString']);
  if (text) return text;
  return undefined;
}

/** Status of a Condition, decided in the order clinical policy §1 gives. */
export function conditionStatus(resource: JsonObject, textSuspected: boolean, todayIso: string): { status: ConditionStatus; abatedOn: string | undefined } {
  const verification = resource['verificationStatus'];
  if (someStatusCode(verification, isIgnored)) return IGNORED;
  // A clinicalStatus spelt any other way than FHIR writes it is no clinicalStatus at all (§1), so the abatement decides.
  const clinical = resource['clinicalStatus'];
  if (someStatusCode(clinical, isHistorical)) return HISTORICAL;
  if (!someStatusCode(clinical, isClinical)) {
    const abated = pastAbatement(resource, todayIso);
    if (abated) return { status: 'historical', abatedOn: abated };
  }
  if (textSuspected || someStatusCode(verification, isSuspected)) return SUSPECTED;
  return ACTIVE;
}

/** Reads a Condition; undefined when it matches no class at all. */
export function readCondition(resource: JsonObject, knowledge: Knowledge, todayIso: string): ConditionEntry | undefined {
  const cls = classifyCode(resource['code'], knowledge, CONDITION_TEXT_CLASSES);
  if (cls.matchedBy === 'none' || cls.classes.size === 0) return undefined;
  const { status, abatedOn } = conditionStatus(resource, cls.textSuspected, todayIso);
  const onsetPeriod = resource['onsetPeriod'];
  const onset =
    readDay(resource['onsetDateTime']) ??
    (isObject(onsetPeriod) ? readDay(onsetPeriod['start']) : undefined) ??
    readDay(resource['recordedDate']) ??
    readDay(resource['assertedDate']) ??
    readDay(resource['dateRecorded']);
  return {
    kind: 'Condition',
    id: str(resource['id']),
    label: firstConceptText(resource['code']),
    classes: cls.classes,
    matchedBy: cls.matchedBy,
    codings: cls.codings,
    status,
    regionUnknown: cls.regionUnknown,
    onset,
    abatedOn,
  };
}

/** Reads a Procedure; undefined unless it is a decompression. */
export function readProcedure(resource: JsonObject, knowledge: Knowledge): ProcedureEntry | undefined {
  const cls = classifyCode(resource['code'], knowledge, PROCEDURE_TEXT_CLASSES);
  if (cls.matchedBy === 'none' || !cls.classes.has('DECOMPRESSED')) return undefined;
  const period = resource['performedPeriod'];
  return {
    kind: 'Procedure',
    label: firstConceptText(resource['code']),
    classes: cls.classes,
    matchedBy: cls.matchedBy,
    codings: cls.codings,
    completed: statusCode(resource['status']) === 'completed',
    performed: readDay(resource['performedDateTime']) ?? (isObject(period) ? readDay(period['start']) : undefined),
  };
}
