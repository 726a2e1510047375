/**
 * Request bodies for the benchmark: a primary-care problem list (SNOMED, ICD-10-CM, both, or text
 * only) of any length with exactly one cervical stenosis, three unrelated procedures, and an
 * order-sign call for a neck massage order.
 */
export type Json = Record<string, unknown>;

const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const SNOMED = 'http://snomed.info/sct';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';

/** A problem list like a primary-care chart's: SNOMED, ICD-10-CM, both, or free text only. */
const PROBLEMS: ReadonlyArray<{ codings: Array<[string, string, string]>; text?: string }> = [
  { codings: [[SNOMED, '38341003', 'Hypertensive disorder, systemic arterial']] },
  { codings: [[ICD10CM, 'E11.9', 'Type 2 diabetes mellitus without complications']] },
  { codings: [[SNOMED, '55822004', 'Hyperlipidemia'], [ICD10CM, 'E78.5', 'Hyperlipidemia, unspecified']] },
  { codings: [], text: 'Chronic low back pain, mechanical' },
  { codings: [[SNOMED, '195967001', 'Asthma']] },
  { codings: [[ICD10CM, 'K21.9', 'Gastro-esophageal reflux disease without esophagitis']] },
  { codings: [[SNOMED, '35489007', 'Depressive disorder']], text: 'Depression, in remission on sertraline' },
  { codings: [], text: 'Seasonal allergic rhinitis' },
  { codings: [[ICD10CM, 'M17.11', 'Unilateral primary osteoarthritis, right knee']] },
  { codings: [[SNOMED, '40930008', 'Hypothyroidism']] },
  { codings: [], text: 'Tension-type headache, episodic; no neurological deficit' },
  { codings: [[ICD10CM, 'G47.33', 'Obstructive sleep apnea (adult)']] },
  { codings: [[SNOMED, '49436004', 'Atrial fibrillation'], [ICD10CM, 'I48.91', 'Unspecified atrial fibrillation']] },
  { codings: [], text: 'Plantar fasciitis, left foot' },
  { codings: [[ICD10CM, 'M54.2', 'Cervicalgia']], text: 'Neck pain after whiplash, 2019' },
  { codings: [[SNOMED, '271737000', 'Anemia']] },
  { codings: [[ICD10CM, 'N18.3', 'Chronic kidney disease, stage 3 (moderate)']] },
  { codings: [], text: 'Rotator cuff tendinopathy, right shoulder' },
  { codings: [[SNOMED, '414916001', 'Obesity']] },
  { codings: [[ICD10CM, 'F41.1', 'Generalized anxiety disorder']] },
];

const CERVICAL_STENOSIS: { codings: Array<[string, string, string]> } = {
  codings: [[ICD10CM, 'M48.02', 'Spinal stenosis, cervical region'], [SNOMED, '427351004', 'Cervical spinal stenosis']],
};

function condition(index: number, problem: { codings: Array<[string, string, string]>; text?: string }, patientId: string): Json {
  const year = 2005 + (index % 19);
  const month = String(1 + (index % 12)).padStart(2, '0');
  return {
    resourceType: 'Condition',
    id: `cond-${index}`,
    meta: { versionId: '1', lastUpdated: `${year}-${month}-15T10:00:00Z` },
    clinicalStatus: { coding: [{ system: CONDITION_CLINICAL, code: index % 9 === 4 ? 'resolved' : 'active' }] },
    verificationStatus: { coding: [{ system: CONDITION_VERIFICATION, code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item', display: 'Problem List Item' }] }],
    code: {
      ...(problem.codings.length > 0 ? { coding: problem.codings.map(([system, code, display]) => ({ system, code, display })) } : {}),
      ...(problem.text ? { text: problem.text } : {}),
    },
    subject: { reference: `Patient/${patientId}` },
    onsetDateTime: `${year}-${month}-01`,
    recordedDate: `${year}-${month}-15`,
    recorder: { reference: 'Practitioner/pr-1', display: 'Dr. A. Example' },
  };
}

/** `count` Conditions, exactly one of them cervical stenosis. */
export function conditions(count: number, patientId: string): Json[] {
  const stenosisAt = Math.floor(count / 2);
  return Array.from({ length: count }, (_, i) => condition(i, i === stenosisAt ? CERVICAL_STENOSIS : (PROBLEMS[i % PROBLEMS.length] ?? { codings: [] }), patientId));
}

export function procedures(patientId: string): Json[] {
  const done = (id: string, code: string, display: string, date: string): Json => ({
    resourceType: 'Procedure',
    id,
    status: 'completed',
    code: { coding: [{ system: SNOMED, code, display }] },
    subject: { reference: `Patient/${patientId}` },
    performedDateTime: date,
  });
  return [
    done('proc-1', '80146002', 'Appendectomy', '1998-06-02'),
    done('proc-2', '73761001', 'Colonoscopy', '2021-09-14'),
    done('proc-3', '386638009', 'Arthroscopy of knee joint', '2016-03-30'),
  ];
}

export const patient = (patientId: string): Json => ({
  resourceType: 'Patient',
  id: patientId,
  name: [{ family: 'Bench', given: ['Pat'] }],
  gender: 'female',
  birthDate: '1961-04-12',
});

const massageOrder = (patientId: string): Json => ({
  resourceType: 'ServiceRequest',
  id: 'sr-massage',
  status: 'draft',
  intent: 'order',
  subject: { reference: `Patient/${patientId}` },
  code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97124', display: 'Massage therapy' }], text: 'Massage therapy' },
  bodySite: [{ coding: [{ system: SNOMED, code: '45048000', display: 'Neck' }] }],
  authoredOn: '2026-11-30',
});

const searchset = (resources: Json[]): Json => ({
  resourceType: 'Bundle',
  type: 'searchset',
  total: resources.length,
  entry: resources.map((resource) => ({ fullUrl: `https://ehr.example.org/fhir/${String(resource['resourceType'])}/${String(resource['id'])}`, resource, search: { mode: 'match' } })),
});

/** An order-sign request for a neck massage order; with `prefetch` absent the service asks `fhirServer`. */
export function hookRequest(options: { patientId: string; hookInstance: string; prefetch?: Json; fhirServer?: string }): string {
  return JSON.stringify({
    hook: 'order-sign',
    hookInstance: options.hookInstance,
    ...(options.fhirServer ? { fhirServer: options.fhirServer } : {}),
    context: {
      userId: 'Practitioner/pr-1',
      patientId: options.patientId,
      encounterId: 'enc-1',
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: massageOrder(options.patientId) }] },
    },
    ...(options.prefetch ? { prefetch: options.prefetch } : {}),
  });
}

/** The prefetch a chart with `conditionCount` Conditions (one cervical stenosis) and three procedures gives. */
export function prefetchFor(conditionCount: number, patientId: string): Json {
  return { patient: patient(patientId), conditions: searchset(conditions(conditionCount, patientId)), procedures: searchset(procedures(patientId)) };
}

/**
 * A chart whose only Condition has no recognised coding and a long free text of repeated phrases
 * (about 110 KB): text matching must stay linear in the text.
 */
export function longTextPrefetch(patientId: string): Json {
  const text = 'cervical stenosis? '.repeat(6000);
  const longText: Json = {
    resourceType: 'Condition',
    id: 'cond-long-text',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { text },
    subject: { reference: `Patient/${patientId}` },
    onsetDateTime: '2024-03-01',
  };
  return { patient: patient(patientId), conditions: searchset([longText]), procedures: searchset(procedures(patientId)) };
}

const PATIENT_SLOT = 'bench-patient-slot-0000';
const HOOK_INSTANCE_SLOT = 'bench-hook-instance-slot-0000';

/**
 * A request body with a fresh `hookInstance` per call (and, with `freshPatient`, a fresh patient
 * id everywhere it appears), rendered from pre-split text so the load generator stays cheap.
 */
export interface BodyTemplate {
  readonly bytes: number;
  render(sequence: number): string;
}

export function bodyTemplate(build: (patientId: string, hookInstance: string) => string, freshPatient: boolean): BodyTemplate {
  const text = build(PATIENT_SLOT, HOOK_INSTANCE_SLOT);
  const pieces = text.split(HOOK_INSTANCE_SLOT).map((piece) => piece.split(PATIENT_SLOT));
  const hookInstance = (n: number) => `b3f1c0de-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  const patientId = (n: number) => (freshPatient ? `bench-patient-${n.toString(36)}` : 'bench-patient');
  return {
    bytes: Buffer.byteLength(text),
    render(sequence) {
      const id = patientId(sequence);
      return pieces.map((parts) => parts.join(id)).join(hookInstance(sequence));
    },
  };
}
