import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import request from 'supertest';
import { expectValidCdsResponse } from '../../helpers/cds-response-schema.js';
import { ACCESS_TOKEN, buildTestApp, FHIR_BASE, FHIR_ORIGIN, hookRequest, PATIENT_ID, patientResource, searchset, servicePath, stenosisCondition } from '../../helpers/requests.js';

const NEXT = `${FHIR_BASE}/Condition?patient=${PATIENT_ID}&_page=2`;

/** Page one of a paged conditions prefetch: nothing relevant on it, a `next` link to the rest. */
function pagedPrefetch(next: string) {
  return {
    patient: patientResource(),
    conditions: searchset([], next),
    procedures: searchset([]),
  };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('a paged prefetch (CDS Hooks 2.0 allows paging)', () => {
  it('reads the remaining pages from the FHIR server with the bearer token', async () => {
    const scope = nock(FHIR_ORIGIN, { reqheaders: { authorization: `Bearer ${ACCESS_TOKEN}` } })
      .get('/fhir/Condition')
      .query({ patient: PATIENT_ID, _page: '2' })
      .reply(200, searchset([stenosisCondition()]));
    const response = await request(buildTestApp()).post(servicePath('order-sign')).send(hookRequest('order-sign', { prefetch: pagedPrefetch(NEXT) }));
    expect(response.status).toBe(200);
    expectValidCdsResponse(response.body);
    expect(response.body.cards.map((card: { source: { topic: { code: string } } }) => card.source.topic.code)).toEqual(['cervical-stenosis-massage']);
    expect(scope.isDone()).toBe(true);
  });

  it('never follows a next link to another server, and uses the page it has', async () => {
    const elsewhere = nock('https://other.example.org').get(/.*/).reply(200, searchset([stenosisCondition()]));
    const response = await request(buildTestApp())
      .post(servicePath('order-sign'))
      .send(hookRequest('order-sign', { prefetch: pagedPrefetch('https://other.example.org/fhir/Condition?page=2') }));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ cards: [] });
    expect(elsewhere.isDone()).toBe(false);
  });

  it('uses the prefetched page when the rest cannot be read', async () => {
    nock(FHIR_ORIGIN).get('/fhir/Condition').query(true).reply(500, { resourceType: 'OperationOutcome', issue: [] });
    const prefetch = { ...pagedPrefetch(NEXT), conditions: searchset([stenosisCondition()], NEXT) };
    const response = await request(buildTestApp()).post(servicePath('order-sign')).send(hookRequest('order-sign', { prefetch }));
    expect(response.status).toBe(200);
    expect(response.body.cards).toHaveLength(1);
  });
});
