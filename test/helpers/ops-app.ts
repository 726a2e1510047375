import type { Express, Router } from 'express';
import { createApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { FhirGateway } from '../../src/fhir/gateway.js';
import { loadKnowledge, type Knowledge } from '../../src/knowledge/load-knowledge.js';
import { createLogger } from '../../src/logger.js';
import type { Metrics } from '../../src/ops/types.js';

let knowledge: Knowledge | undefined;

/** Development-mode config (no trust file, so no caller authentication) with overrides. */
export function opsConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', CDS_PUBLIC_BASE_URL: 'http://localhost:3000', ...env });
}

/** The real app with the real knowledge (loaded once per test file). */
export function opsApp(options: { metrics?: Metrics; publicRouters?: Router[]; gateway?: FhirGateway; config?: Config }): Express {
  knowledge ??= loadKnowledge();
  return createApp({
    config: options.config ?? opsConfig(),
    knowledge,
    logger: createLogger('silent'),
    clock: () => new Date('2026-12-01T12:00:00Z'),
    newId: () => '00000000-0000-4000-8000-000000000000',
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.publicRouters ? { publicRouters: options.publicRouters } : {}),
    ...(options.gateway ? { gateway: options.gateway } : {}),
  });
}

const MASSAGE_ORDER = {
  resourceType: 'ServiceRequest',
  id: 'sr-1',
  status: 'draft',
  intent: 'order',
  subject: { reference: 'Patient/p1' },
  code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97124', display: 'Massage therapy' }], text: 'Massage therapy' },
  bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: '45048000', display: 'Neck' }] }],
};

const CERVICAL_STENOSIS = {
  resourceType: 'Condition',
  id: 'c1',
  subject: { reference: 'Patient/p1' },
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M48.02', display: 'Spinal stenosis, cervical region' }] },
  onsetDateTime: '2024-03-01',
};

/** An order-sign call with a neck massage order; with prefetch (stenosis, no procedures) or asking the FHIR server. */
export function orderSignBody(options: { prefetch: boolean; fhirServer?: string }): Record<string, unknown> {
  return {
    hook: 'order-sign',
    hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
    ...(options.fhirServer ? { fhirServer: options.fhirServer } : {}),
    context: {
      userId: 'Practitioner/example',
      patientId: 'p1',
      draftOrders: { resourceType: 'Bundle', entry: [{ resource: MASSAGE_ORDER }] },
    },
    ...(options.prefetch
      ? { prefetch: { conditions: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: CERVICAL_STENOSIS }] }, procedures: null } }
      : {}),
  };
}

export const ORDER_SIGN_PATH = '/cds-services/spine-safety-order-sign';
