import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { isResource } from '@medplum/core';
import type { Bundle } from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import { startFhirTestServer, type FhirTestServer } from '../helpers/fhir-test-server.js';

const seedBundle: Bundle = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    { resource: { resourceType: 'Patient', id: 'p1', name: [{ family: 'Example', given: ['Pat'] }] } },
    {
      resource: {
        resourceType: 'Condition',
        id: 'stenosis-p1',
        subject: { reference: 'Patient/p1' },
        code: { coding: [{ system: 'http://snomed.info/sct', code: '18347007', display: 'Spinal stenosis' }] },
      },
    },
    {
      resource: {
        resourceType: 'Condition',
        id: 'stenosis-p2',
        subject: { reference: 'Patient/p2' },
        code: { coding: [{ system: 'http://snomed.info/sct', code: '18347007', display: 'Spinal stenosis' }] },
      },
    },
    {
      resource: {
        resourceType: 'Procedure',
        id: 'laminectomy-p1',
        status: 'completed',
        subject: { reference: 'Patient/p1' },
        code: { text: 'Cervical laminectomy' },
      },
    },
  ],
};

function toBundle(value: unknown): Bundle {
  if (!isResource<Bundle>(value, 'Bundle')) {
    throw new Error(`Expected a Bundle, got ${JSON.stringify(value)}`);
  }
  return value;
}

function entryIds(value: unknown): string[] {
  return (toBundle(value).entry ?? []).map((entry) => `${entry.resource?.resourceType}/${entry.resource?.id}`);
}

describe('FHIR test server', () => {
  let server: FhirTestServer;
  let client: Client;

  beforeAll(async () => {
    server = await startFhirTestServer();
    await server.seed(seedBundle);
    client = new Client({ baseUrl: server.baseUrl });
  });

  afterAll(async () => {
    await server.close();
  });

  beforeEach(() => {
    server.requests.length = 0;
  });

  it('returns only the patient’s Conditions for a bare patient id', async () => {
    const bundle = await client.search({
      resourceType: 'Condition',
      searchParams: { patient: 'p1', _count: 200 },
    });

    expect(bundle.resourceType).toBe('Bundle');
    expect(entryIds(bundle)).toEqual(['Condition/stenosis-p1']);
    expect(toBundle(bundle).entry?.[0]?.fullUrl).toBe(`${server.baseUrl}/Condition/stenosis-p1`);
  });

  it('reads a seeded resource by the id it was given', async () => {
    const procedure = await client.read({ resourceType: 'Procedure', id: 'laminectomy-p1' });

    expect(procedure).toMatchObject({ resourceType: 'Procedure', id: 'laminectomy-p1', status: 'completed' });
  });

  it('records the method, url and bearer token of each request', async () => {
    const authorized = new Client({ baseUrl: server.baseUrl, customHeaders: { Authorization: 'Bearer test-token' } });

    await authorized.search({ resourceType: 'Procedure', searchParams: { patient: 'p1' } });

    expect(server.requests).toEqual([
      { method: 'GET', url: '/fhir/Procedure?patient=p1', authorization: 'Bearer test-token' },
    ]);
  });

  it('answers a form-encoded POST _search', async () => {
    const bundle = await client.search({
      resourceType: 'Condition',
      searchParams: { patient: 'p1' },
      options: { postSearch: true },
    });

    expect(entryIds(bundle)).toEqual(['Condition/stenosis-p1']);
    expect(server.requests).toEqual([{ method: 'POST', url: '/fhir/Condition/_search' }]);
  });

  it('answers application/fhir+json and a FHIR OperationOutcome for an unknown resource', async () => {
    const response = await fetch(`${server.baseUrl}/Patient/missing`);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(await response.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  it('rejects search parameters the in-memory repository would silently ignore', async () => {
    const unknown = await fetch(`${server.baseUrl}/Condition?patient=p1&not-a-param=x`);
    const revinclude = await fetch(`${server.baseUrl}/Patient?_id=p1&_revinclude=Condition:patient`);

    expect([unknown.status, revinclude.status]).toEqual([400, 400]);
  });

  it('links to the next page when _count cuts the result short', async () => {
    const bundle = await client.search({ resourceType: 'Condition', searchParams: { _count: 1 } });
    const next = await client.nextPage({ bundle: { ...bundle, link: toBundle(bundle).link ?? [] } });

    expect(toBundle(bundle).total).toBe(2);
    expect(entryIds(bundle)).toHaveLength(1);
    expect(entryIds(next)).toHaveLength(1);
    expect(entryIds(next)).not.toEqual(entryIds(bundle));
  });

  it('delays each response by at least the configured latency', async () => {
    const latencyMs = 50;
    const slow = await startFhirTestServer({ latencyMs });
    try {
      await slow.seed(seedBundle.entry?.map((entry) => entry.resource) ?? []);
      const slowClient = new Client({ baseUrl: slow.baseUrl });

      const startedAt = performance.now();
      const patient = await slowClient.read({ resourceType: 'Patient', id: 'p1' });
      const elapsedMs = performance.now() - startedAt;

      expect(patient).toMatchObject({ resourceType: 'Patient', id: 'p1' });
      expect(elapsedMs).toBeGreaterThanOrEqual(latencyMs);
    } finally {
      await slow.close();
    }
  });
});
