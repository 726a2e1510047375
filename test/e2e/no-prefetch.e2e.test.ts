/**
 * End to end with no prefetch at all: the real service (real fhir-kit-client gateway) reads the
 * patient's record from a real FHIR R4 server seeded from `fixtures/fhir/e2e-patient-bundle.json`.
 * @see https://cds-hooks.hl7.org/2.0/#fhir-resource-access
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { projectRoot } from '../../src/paths.js';
import { expectOperationOutcome, expectValidCdsResponse, type CdsResponse } from '../helpers/cds-response-schema.js';
import { startFhirTestServer, type FhirTestServer } from '../helpers/fhir-test-server.js';
import { hookRequest, neckMassageAppointment, neckMassageOrder, servicePath, testKnowledge, testServiceConfig, type HookName, type Json } from '../helpers/requests.js';

const SPINE_PATIENT = 'e2e-spine-1';
const CLEAR_PATIENT = 'e2e-clear-1';
const E2E_TOKEN = 'e2e-access-token-8d1f';

let fhir: FhirTestServer;
let service: Server;
let serviceBase = '';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('service is not listening on a TCP port');
  return `http://127.0.0.1:${address.port}`;
}

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  fhir = await startFhirTestServer();
  const bundle: unknown = JSON.parse(readFileSync(join(projectRoot(), 'fixtures', 'fhir', 'e2e-patient-bundle.json'), 'utf8'));
  await fhir.seed(bundle);
  const app = createApp({ config: testServiceConfig(), knowledge: testKnowledge(), logger: createLogger('silent') });
  service = createServer(app);
  serviceBase = await listen(service);
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    service.close(() => resolve());
    service.closeAllConnections();
  });
  await fhir.close();
  nock.enableNetConnect();
});

beforeEach(() => {
  fhir.requests.length = 0;
});

/** Calls a hook over real HTTP with no `prefetch` member at all. */
async function callWithoutPrefetch(hook: HookName, patientId: string, orders?: Json[]): Promise<{ status: number; body: unknown }> {
  const body = hookRequest(hook, {
    patientId,
    prefetch: undefined,
    fhirServer: fhir.baseUrl,
    accessToken: E2E_TOKEN,
    ...(orders ? (hook === 'appointment-book' ? { appointments: orders } : { orders }) : {}),
  });
  expect(body).not.toHaveProperty('prefetch');
  const response = await fetch(`${serviceBase}${servicePath(hook)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

function cardsOf(result: { status: number; body: unknown }): CdsResponse['cards'] {
  expect(result.status).toBe(200);
  return expectValidCdsResponse(result.body).cards;
}

/** Searched resource types and their patient parameter, e.g. `Condition patient=e2e-spine-1`. */
function searches(): string[] {
  return fhir.requests.map((r) => {
    const url = new URL(r.url, 'http://fhir.invalid');
    return `${r.method} ${url.pathname.split('/').pop() ?? ''} patient=${url.searchParams.get('patient') ?? ''}`;
  });
}

describe('no prefetch: the service reads a real FHIR R4 server', () => {
  it('patient-view answers a critical card for the existing neck massage order of a patient with suspected cord compression', async () => {
    const cards = cardsOf(await callWithoutPrefetch('patient-view', SPINE_PATIENT));
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({ indicator: 'critical', source: { topic: { code: 'cord-compression-manual-therapy' } } });
    expect(cards[0]?.summary).toMatch(/massage/i);
    expect(searches().sort()).toEqual([
      `GET Condition patient=${SPINE_PATIENT}`,
      `GET Procedure patient=${SPINE_PATIENT}`,
      `GET ServiceRequest patient=${SPINE_PATIENT}`,
    ]);
    expect(fhir.requests.every((r) => r.authorization === `Bearer ${E2E_TOKEN}`)).toBe(true);
  });

  it('order-sign answers a critical card for a draft massage order', async () => {
    const cards = cardsOf(await callWithoutPrefetch('order-sign', SPINE_PATIENT, [neckMassageOrder(SPINE_PATIENT, 'draft-e2e-1')]));
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({ indicator: 'critical', source: { topic: { code: 'cord-compression-manual-therapy' } } });
    const remove = cards[0]?.suggestions?.flatMap((s) => s.actions ?? []).find((a) => a.type === 'delete');
    expect(remove).toMatchObject({ resourceId: 'ServiceRequest/draft-e2e-1' });
    expect(searches().sort()).toEqual([`GET Condition patient=${SPINE_PATIENT}`, `GET Procedure patient=${SPINE_PATIENT}`]);
  });

  it('order-select answers a critical card for the selected draft massage order', async () => {
    const cards = cardsOf(await callWithoutPrefetch('order-select', SPINE_PATIENT, [neckMassageOrder(SPINE_PATIENT, 'draft-e2e-2')]));
    expect(cards).toHaveLength(1);
    expect(cards[0]?.indicator).toBe('critical');
  });

  it('appointment-book answers a critical card for a proposed massage appointment, offering to delete the appointment', async () => {
    const cards = cardsOf(await callWithoutPrefetch('appointment-book', SPINE_PATIENT, [neckMassageAppointment(SPINE_PATIENT, 'appt-e2e-1')]));
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({ indicator: 'critical', source: { topic: { code: 'cord-compression-manual-therapy' } } });
    const remove = cards[0]?.suggestions?.flatMap((s) => s.actions ?? []).find((a) => a.type === 'delete');
    expect(remove).toMatchObject({ resourceId: 'Appointment/appt-e2e-1' });
    expect(searches().sort()).toEqual([`GET Condition patient=${SPINE_PATIENT}`, `GET Procedure patient=${SPINE_PATIENT}`]);
  });

  it('appointment-book gives no card for a cancelled appointment, nor for a patient with nothing on the record', async () => {
    expect(cardsOf(await callWithoutPrefetch('appointment-book', SPINE_PATIENT, [neckMassageAppointment(SPINE_PATIENT, 'appt-e2e-2', 'cancelled')]))).toEqual([]);
    expect(cardsOf(await callWithoutPrefetch('appointment-book', CLEAR_PATIENT, [neckMassageAppointment(CLEAR_PATIENT, 'appt-e2e-3')]))).toEqual([]);
  });

  it('gives no cards for a patient with nothing on the record, whatever other patients have', async () => {
    expect(cardsOf(await callWithoutPrefetch('patient-view', CLEAR_PATIENT))).toEqual([]);
    expect(cardsOf(await callWithoutPrefetch('order-sign', CLEAR_PATIENT, [neckMassageOrder(CLEAR_PATIENT, 'draft-e2e-3')]))).toEqual([]);
    expect(cardsOf(await callWithoutPrefetch('order-select', CLEAR_PATIENT, [neckMassageOrder(CLEAR_PATIENT, 'draft-e2e-4')]))).toEqual([]);
    expect(searches().every((s) => s.endsWith(`patient=${CLEAR_PATIENT}`))).toBe(true);
  });

  it('answers 412 once the FHIR server is gone', async () => {
    const gone = await startFhirTestServer();
    const baseUrl = gone.baseUrl;
    await gone.close();
    const body = hookRequest('order-sign', { patientId: SPINE_PATIENT, prefetch: undefined, fhirServer: baseUrl, accessToken: undefined });
    const response = await fetch(`${serviceBase}${servicePath('order-sign')}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(412);
    expectOperationOutcome(await response.json());
  });
});
