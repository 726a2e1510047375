import { isObject, str, type JsonObject } from './json.js';

/**
 * Whether a reference points at `Patient/{id}`: relative, absolute, or versioned
 * (`https://ehr/fhir/Patient/123/_history/2`).
 */
export function referencesPatient(reference: string, patientId: string): boolean {
  const path = reference.split('?')[0] ?? '';
  const m = /(?:^|\/)Patient\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(path);
  return m !== null && m[1] === patientId;
}

export type Ownership = 'patient' | 'other' | 'none';

/** Whose resource this is, from `subject` (R4/STU3) or `patient` (DSTU2). */
export function ownership(resource: JsonObject, patientId: string): Ownership {
  const refs = [resource['subject'], resource['patient']].filter(isObject).map((r) => str(r['reference']));
  const present = refs.filter((r): r is string => r !== undefined);
  if (present.length === 0) {
    return isObject(resource['subject']) || isObject(resource['patient']) ? 'other' : 'none';
  }
  return present.some((ref) => referencesPatient(ref, patientId)) ? 'patient' : 'other';
}
