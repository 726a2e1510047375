/**
 * Small builders for the policy matrix: FHIR resources and hook requests made in code, so each
 * case of clinical-policy.md is one line of a table rather than a JSON file.
 */
import type { HookName } from './support.js';

export type Json = Record<string, unknown>;

export const PATIENT = 'pt-matrix-7';
export const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
export const SCT = 'http://snomed.info/sct';
export const CPT = 'http://www.ama-assn.org/go/cpt';
export const SERVICE_TYPE = 'http://terminology.hl7.org/CodeSystem/service-type';
/** clinical-policy.md §1: the OID forms older interfaces send. */
export const OID = {
  [ICD]: 'urn:oid:2.16.840.1.113883.6.90',
  [SCT]: 'urn:oid:2.16.840.1.113883.6.96',
  [CPT]: 'urn:oid:2.16.840.1.113883.6.12',
} as const;

export const ORDER_HOOKS: readonly HookName[] = ['order-sign', 'order-select', 'patient-view'];
export const ALL_HOOKS: readonly HookName[] = [...ORDER_HOOKS, 'appointment-book'];

/** The card ids of clinical-policy.md §4, by row. */
export const ROW = {
  1: 'cord-compression-manual-therapy',
  2: 'cervical-stenosis-manipulation',
  3: 'cervical-stenosis-massage',
  4: 'cervical-stenosis-remote-site',
  5: 'post-decompression-clearance',
} as const;

let serial = 0;
const nextId = (prefix: string) => `${prefix}-${(serial += 1)}`;

export const coded = (system: string, code: string, display?: string): Json => ({ coding: [{ system, code, ...(display ? { display } : {}) }] });
export const text = (value: string): Json => ({ text: value });
/** A coding under a local system the knowledge does not know, with a display: read by its text. */
export const local = (display: string): Json => ({ coding: [{ system: 'urn:oid:1.2.3.4.5.local', code: 'L-1', display }] });

const ACTIVE = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] };
const CONFIRMED = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] };

/** An active, confirmed Condition of the patient, onset 2024-03-01 unless `extra` says otherwise. */
export function condition(code: Json, extra: Json = {}): Json {
  return {
    resourceType: 'Condition',
    id: nextId('cond'),
    subject: { reference: `Patient/${PATIENT}` },
    clinicalStatus: ACTIVE,
    verificationStatus: CONFIRMED,
    code,
    onsetDateTime: '2024-03-01',
    ...extra,
  };
}

/** The same Condition with some fields left out (no clinicalStatus, no onset...). */
export function without(resource: Json, ...fields: string[]): Json {
  const copy = { ...resource };
  for (const field of fields) delete copy[field];
  return copy;
}

/** A completed Procedure of the patient. */
export function procedure(code: Json, extra: Json = {}): Json {
  return { resourceType: 'Procedure', id: nextId('proc'), status: 'completed', subject: { reference: `Patient/${PATIENT}` }, code, ...extra };
}

export const NECK = { coding: [{ system: SCT, code: '45048000', display: 'Neck' }], text: 'Neck' };

/** A draft ServiceRequest of the patient (neck massage, CPT 97124, unless told otherwise). */
export function order(code: Json = coded(CPT, '97124', 'Massage therapy'), extra: Json = {}): Json {
  return {
    resourceType: 'ServiceRequest',
    id: nextId('sr'),
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${PATIENT}` },
    code,
    bodySite: [NECK],
    authoredOn: '2026-11-20',
    ...extra,
  };
}

/** A proposed Appointment of the patient for the given service type, site words in its comment. */
export function appointment(serviceType: Json = coded(SERVICE_TYPE, '25', 'Massage Therapy'), extra: Json = {}): Json {
  return {
    resourceType: 'Appointment',
    id: nextId('appt'),
    status: 'proposed',
    serviceType: [serviceType],
    comment: 'Neck',
    participant: [{ actor: { reference: `Patient/${PATIENT}` }, status: 'accepted' }],
    ...extra,
  };
}

/** The appointment-book form of an order: its code as the service type, its body site text as the comment. */
export function appointmentFor(resource: Json): Json {
  const sites = Array.isArray(resource['bodySite']) ? resource['bodySite'] : [];
  const words = sites
    .map((site: unknown) => {
      if (typeof site !== 'object' || site === null) return undefined;
      const record = Object.fromEntries(Object.entries(site));
      return typeof record['text'] === 'string' ? record['text'] : undefined;
    })
    .filter((w): w is string => w !== undefined);
  return appointment(isJson(resource['code']) ? resource['code'] : {}, words.length > 0 ? { comment: words.join(', ') } : { comment: undefined });
}

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function searchset(resources: readonly Json[]): Json {
  return { resourceType: 'Bundle', type: 'searchset', total: resources.length, entry: resources.map((resource) => ({ resource, search: { mode: 'match' } })) };
}

export interface PatientRecord {
  readonly conditions?: readonly Json[];
  readonly procedures?: readonly Json[];
}

/**
 * The request a hook gets for these orders and this record: order-sign and order-select (every
 * order selected, beside an unselected exercise order) as draft orders, patient-view as the
 * patient's active orders, appointment-book as proposed appointments.
 */
export function requestFor(hook: HookName, orders: readonly Json[], record: PatientRecord, patientId: string = PATIENT): Json {
  const context: Json = { userId: 'Practitioner/pr-1', patientId, encounterId: 'enc-1' };
  const prefetch: Json = {
    patient: { resourceType: 'Patient', id: PATIENT },
    conditions: searchset(record.conditions ?? []),
    procedures: searchset(record.procedures ?? []),
  };
  if (hook === 'patient-view') {
    prefetch['serviceRequests'] = searchset(orders.map((o) => (o['resourceType'] === 'Appointment' ? o : { ...o, status: o['status'] === 'draft' ? 'active' : o['status'] })));
  } else if (hook === 'appointment-book') {
    context['appointments'] = { resourceType: 'Bundle', type: 'collection', entry: orders.map((resource) => ({ resource })) };
  } else {
    const bystander = order(coded(CPT, '97110', 'Therapeutic exercise'));
    const all = hook === 'order-select' ? [...orders, bystander] : orders;
    context['draftOrders'] = { resourceType: 'Bundle', type: 'collection', entry: all.map((resource) => ({ resource })) };
    if (hook === 'order-select') context['selections'] = orders.map((o) => `${String(o['resourceType'])}/${String(o['id'])}`);
  }
  return { hook, hookInstance: `matrix-${nextId('call')}`, context, prefetch };
}
