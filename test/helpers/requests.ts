/**
 * CDS Hooks requests for the protocol suites, built around one positive case: a neck massage
 * order for a patient with cervical stenosis (ICD-10-CM M48.02). The clinical decision table
 * itself is covered by the fixtures under `fixtures/requests/`; these builders only vary the
 * protocol envelope (prefetch, fhirServer, fhirAuthorization, context).
 */
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { createApp, type AppDeps } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { loadKnowledge, type Knowledge } from '../../src/knowledge/load-knowledge.js';
import { createLogger } from '../../src/logger.js';

export type Json = Record<string, unknown>;

export const PATIENT_ID = 'pt-stenosis-1';
export const USER_ID = 'Practitioner/prac-1';
export const ENCOUNTER_ID = 'enc-1';
/** A FHIR server that only exists behind nock. */
export const FHIR_BASE = 'https://ehr.example.org/fhir';
export const FHIR_ORIGIN = 'https://ehr.example.org';
export const ACCESS_TOKEN = 'fhir-access-token-3f9a1c7e5b2d';
export const DRAFT_ORDER_ID = 'draft-massage-1';

export const SERVICE_IDS = {
  'patient-view': 'spine-safety-patient-view',
  'order-select': 'spine-safety-order-select',
  'order-sign': 'spine-safety-order-sign',
  'appointment-book': 'spine-safety-appointment-book',
} as const;

export type HookName = keyof typeof SERVICE_IDS;
/** The hooks every protocol matrix runs on (appointment-book joins where a test names it). */
export const HOOKS: readonly HookName[] = ['patient-view', 'order-select', 'order-sign'];
export const ALL_HOOKS: readonly HookName[] = [...HOOKS, 'appointment-book'];

export function servicePath(hook: HookName): string {
  return `/cds-services/${SERVICE_IDS[hook]}`;
}

/** Active, confirmed cervical stenosis. */
export function stenosisCondition(patientId: string = PATIENT_ID, id = 'cond-stenosis-1'): Json {
  return {
    resourceType: 'Condition',
    id,
    subject: { reference: `Patient/${patientId}` },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M48.02', display: 'Spinal stenosis, cervical region' }] },
    onsetDateTime: '2024-03-01',
  };
}

/** A massage therapy order (CPT 97124) to the neck. */
export function neckMassageOrder(patientId: string = PATIENT_ID, id: string = DRAFT_ORDER_ID, status = 'draft'): Json {
  return {
    resourceType: 'ServiceRequest',
    id,
    status,
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97124', display: 'Massage therapy' }], text: 'Massage therapy' },
    bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: '45048000', display: 'Neck' }], text: 'Neck' }],
    authoredOn: '2026-01-10',
  };
}

/** A proposed massage therapy appointment (HL7 service type 25) for the patient, neck named in its comment. */
export function neckMassageAppointment(patientId: string = PATIENT_ID, id = 'appt-massage-1', status = 'proposed'): Json {
  return {
    resourceType: 'Appointment',
    id,
    status,
    serviceType: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/service-type', code: '25', display: 'Massage Therapy' }] }],
    comment: 'Neck and shoulders',
    participant: [{ actor: { reference: `Patient/${patientId}` }, status: 'accepted' }],
  };
}

/** An order the rules do not care about (physical therapy exercise). */
export function exerciseOrder(patientId: string = PATIENT_ID, id = 'order-exercise-1', status = 'active'): Json {
  return {
    resourceType: 'ServiceRequest',
    id,
    status,
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97110', display: 'Therapeutic exercise' }] },
  };
}

export function patientResource(patientId: string = PATIENT_ID): Json {
  return { resourceType: 'Patient', id: patientId };
}

/** A searchset Bundle of the given resources, optionally with a `next` link. */
export function searchset(resources: readonly Json[], next?: string): Json {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
    ...(resources.length > 0 ? { entry: resources.map((resource) => ({ resource })) } : {}),
  };
}

export function operationOutcomeResource(text = 'search failed'): Json {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: text }] };
}

/** A Bundle whose only entries report errors (how a client reports partial prefetch failures). */
export function outcomeBundle(): Json {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [{ resource: operationOutcomeResource('Condition search failed'), search: { mode: 'outcome' } }],
  };
}

/** A draftOrders Bundle as order-select/order-sign send it (no Bundle.type, like the spec examples). */
export function draftOrders(orders: readonly Json[] = [neckMassageOrder()]): Json {
  return { resourceType: 'Bundle', entry: orders.map((resource) => ({ resource })) };
}

/** The prefetch a client gives when it resolved every template of the hook. */
export function fullPrefetch(hook: HookName, patientId: string = PATIENT_ID): Json {
  return {
    patient: patientResource(patientId),
    conditions: searchset([stenosisCondition(patientId)]),
    procedures: searchset([]),
    ...(hook === 'patient-view' ? { serviceRequests: searchset([neckMassageOrder(patientId, 'order-massage-1', 'active')]) } : {}),
  };
}

export interface RequestOptions {
  readonly patientId?: string;
  /** `undefined` leaves the field out of the request. */
  readonly prefetch?: Json | undefined;
  readonly fhirServer?: string | undefined;
  /** An access token for fhirAuthorization; `undefined` leaves fhirAuthorization out. */
  readonly accessToken?: string | undefined;
  readonly orders?: readonly Json[];
  /** appointment-book only: the proposed appointments. */
  readonly appointments?: readonly Json[];
}

/**
 * A well-formed request for one hook. With no options: full prefetch, a fhirServer and
 * fhirAuthorization, and (order hooks) a draft neck massage order.
 */
export function hookRequest(hook: HookName, options: RequestOptions = {}): Json {
  const patientId = options.patientId ?? PATIENT_ID;
  const prefetch = 'prefetch' in options ? options.prefetch : fullPrefetch(hook, patientId);
  const fhirServer = 'fhirServer' in options ? options.fhirServer : FHIR_BASE;
  const accessToken = 'accessToken' in options ? options.accessToken : ACCESS_TOKEN;
  const orders = options.orders ?? [neckMassageOrder(patientId)];
  const context: Json = { userId: USER_ID, patientId, encounterId: ENCOUNTER_ID };
  if (hook === 'appointment-book') context['appointments'] = draftOrders(options.appointments ?? [neckMassageAppointment(patientId)]);
  else if (hook !== 'patient-view') context['draftOrders'] = draftOrders(orders);
  if (hook === 'order-select') {
    context['selections'] = orders.map((order) => `${String(order['resourceType'])}/${String(order['id'])}`);
  }
  return {
    hookInstance: randomUUID(),
    hook,
    ...(fhirServer !== undefined ? { fhirServer } : {}),
    ...(accessToken !== undefined && fhirServer !== undefined
      ? {
          fhirAuthorization: {
            access_token: accessToken,
            token_type: 'Bearer',
            expires_in: 300,
            scope: 'user/Patient.read user/Condition.read user/Procedure.read user/ServiceRequest.read',
            subject: 'spine-safety-cds',
          },
        }
      : {}),
    context,
    ...(prefetch !== undefined ? { prefetch } : {}),
  };
}

/** Configuration of an unauthenticated (development mode) test service, with overrides. */
export function testServiceConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    CDS_PUBLIC_BASE_URL: 'https://cds.example.org',
    LOG_LEVEL: 'silent',
    ...overrides,
  });
}

let cachedKnowledge: Knowledge | undefined;

/** The real knowledge, loaded once per test file. */
export function testKnowledge(): Knowledge {
  cachedKnowledge ??= loadKnowledge();
  return cachedKnowledge;
}

/** The real app in development mode (no trust file); the FHIR gateway is the real fhir-kit-client one unless given. */
export function buildTestApp(overrides: Partial<AppDeps> = {}): Express {
  const config = overrides.config ?? testServiceConfig();
  return createApp({
    config,
    knowledge: overrides.knowledge ?? testKnowledge(),
    logger: overrides.logger ?? createLogger('silent'),
    ...overrides,
  });
}
