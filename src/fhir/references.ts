import { isObject, str, type JsonObject } from './json.js';

/**
 * Whether a reference points at `Patient/{id}`: relative, absolute, or versioned
 * (`https://ehr/fhir/Patient/123/_history/2`).
 */
export function referencesPatient(reference: string, patientId: string): boolean {
  // The common relative form `Patient/{id}` needs no parsing (an id holding `/` or `?` takes the long way).
  if (
    patientId !== '' &&
    reference.length === patientId.length + 8 &&
    reference.startsWith('Patient/') &&
    reference.endsWith(patientId) &&
    !patientId.includes('/') &&
    !patientId.includes('?')
  ) {
    return true;
  }
  const path = reference.split('?')[0] ?? '';
  const m = /(?:^|\/)Patient\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(path);
  return m !== null && m[1] === patientId;
}

export type Ownership = 'patient' | 'other' | 'none';

/** Whose resource this is, from `subject` (R4/STU3) or `patient` (DSTU2). */
export function ownership(resource: JsonObject, patientId: string): Ownership {
  const subject = resource['subject'];
  const patient = resource['patient'];
  const subjectRef = isObject(subject) ? str(subject['reference']) : undefined;
  const patientRef = isObject(patient) ? str(patient['reference']) : undefined;
  if (subjectRef === undefined && patientRef === undefined) {
    return isObject(subject) || isObject(patient) ? 'other' : 'none';
  }
  const own = (subjectRef !== undefined && referencesPatient(subjectRef, patientId)) || (patientRef !== undefined && referencesPatient(patientRef, patientId));
  return own ? 'patient' : 'other';
}
