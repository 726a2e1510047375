import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import { createFeedbackRouter } from '../../../src/http/feedback-routes.js';
import type { AnalyticsStore } from '../../../src/store/analytics-store.js';
import { appWith, recordingMetrics } from './http-harness.js';
import { CSM, createSqliteHarness, issuedCard, KNOWN_RANGE, silentLogger } from './store-harness.js';

const SERVICE = 'spine-safety-order-sign';
const URL = `/cds-services/${SERVICE}/feedback`;
const RECEIVED_AT = new Date('2026-11-02T00:00:00Z');

function feedbackApp(store: Pick<AnalyticsStore, 'recordFeedback'>, metrics = recordingMetrics()): Express {
  return appWith(
    [createFeedbackRouter({ store, logger: silentLogger, metrics, knownServiceIds: new Set([SERVICE]), bodyLimitBytes: 64 * 1024, now: () => RECEIVED_AT })],
    silentLogger,
  );
}

const overrideItem = {
  card: 'csm-1',
  outcome: 'overridden',
  overrideReason: { reason: { code: 'benefit-outweighs-risk', system: 'urn:x', display: 'Benefit outweighs risk' }, userComment: 'checked' },
  outcomeTimestamp: '2026-11-01T10:00:00Z',
};
const acceptItem = { card: 'csm-1', outcome: 'accepted', acceptedSuggestions: [{ id: 's-refer' }], outcomeTimestamp: '2026-11-01T10:05:00.52Z' };

describe('POST /cds-services/{id}/feedback', () => {
  let harness: ReturnType<typeof createSqliteHarness>;
  let store: AnalyticsStore;
  let app: Express;
  let metrics: ReturnType<typeof recordingMetrics>;

  beforeEach(async () => {
    harness = createSqliteHarness();
    store = await harness.open();
    await store.recordIssued([issuedCard('csm-1', CSM, '2026-11-01T09:00:00Z')]);
    metrics = recordingMetrics();
    app = feedbackApp(store, metrics);
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  it('stores feedback and answers 200 with what was new and what was already stored', async () => {
    const first = await request(app).post(URL).send({ feedback: [overrideItem, acceptItem] });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ stored: 2, duplicates: 0 });
    expect(metrics.feedback).toEqual(['overridden', 'accepted']);

    const again = await request(app).post(URL).send({ feedback: [overrideItem, acceptItem] });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ stored: 0, duplicates: 2 });

    const [card] = (await store.report(KNOWN_RANGE)).cards;
    expect(card).toMatchObject({ cardId: CSM, issued: 1, accepted: 1, overridden: 1, overrideRate: 0.5, suggestionsTaken: 1, comments: 1 });
  });

  it('accepts the sandbox shape: a reason with only a code, plus extensions and unknown fields', async () => {
    const response = await request(app)
      .post(URL)
      .send({
        extension: { 'com.example': true },
        feedback: [{ card: 'csm-1', outcome: 'overridden', overrideReason: { reason: { code: 'other' } }, outcomeTimestamp: '2026-11-01T11:00:00+01:00', extension: {} }],
      });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ stored: 1, duplicates: 0 });
    expect((await store.report(KNOWN_RANGE)).cards[0]?.topOverrideReasons).toEqual([{ code: 'other', count: 1 }]);
  });

  it('keeps feedback for a card uuid it never issued, marked unknown', async () => {
    const response = await request(app)
      .post(URL)
      .send({ feedback: [{ ...overrideItem, card: 'never-issued' }] });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ stored: 1, duplicates: 0 });
    expect(await harness.knownFlags('never-issued')).toEqual([false]);
    expect((await store.report(KNOWN_RANGE)).unknownCardFeedback).toEqual({ total: 1, accepted: 0, overridden: 1 });
  });

  it('answers 200 to an empty feedback list', async () => {
    const response = await request(app).post(URL).send({ feedback: [] });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ stored: 0, duplicates: 0 });
  });

  it.each([
    ['no feedback array', {}, 'feedback'],
    ['feedback not an array', { feedback: 'SECRET-VALUE' }, 'feedback'],
    ['card missing', { feedback: [{ outcome: 'overridden', outcomeTimestamp: '2026-11-01T10:00:00Z' }] }, 'feedback[0].card'],
    ['unknown outcome', { feedback: [{ ...overrideItem, outcome: 'SECRET-VALUE' }] }, 'feedback[0].outcome'],
    ['accepted without acceptedSuggestions', { feedback: [overrideItem, { ...acceptItem, acceptedSuggestions: undefined }] }, 'feedback[1].acceptedSuggestions'],
    ['timestamp without a zone', { feedback: [{ ...overrideItem, outcomeTimestamp: '2026-11-01T10:00:00' }] }, 'feedback[0].outcomeTimestamp'],
    ['timestamp not a date', { feedback: [{ ...overrideItem, outcomeTimestamp: 'SECRET-VALUE' }] }, 'feedback[0].outcomeTimestamp'],
    ['reason without a code', { feedback: [{ ...overrideItem, overrideReason: { reason: { display: 'SECRET-VALUE' } } }] }, 'feedback[0].overrideReason.reason.code'],
    ['suggestion without an id', { feedback: [{ ...acceptItem, acceptedSuggestions: [{ uuid: 'SECRET-VALUE' }] }] }, 'feedback[0].acceptedSuggestions[0].id'],
  ])('answers 400 INVALID_REQUEST for %s, naming the path without echoing values', async (_case, body, path) => {
    const response = await request(app).post(URL).send(body);
    expect(response.status).toBe(400);
    expect(response.body.resourceType).toBe('OperationOutcome');
    expect(response.body.issue[0].details.coding[0].code).toBe('INVALID_REQUEST');
    expect(response.body.issue.map((issue: { expression?: string[] }) => issue.expression?.[0])).toContain(path);
    expect(JSON.stringify(response.body)).not.toContain('SECRET-VALUE');
    expect((await store.report(KNOWN_RANGE)).cards[0]?.overridden).toBe(0);
  });

  it('answers 400 for a body that is not JSON and 415 for one not declared as JSON', async () => {
    const broken = await request(app).post(URL).set('Content-Type', 'application/json').send('{"feedback": [');
    expect(broken.status).toBe(400);
    expect(broken.body.resourceType).toBe('OperationOutcome');
    const text = await request(app).post(URL).set('Content-Type', 'text/plain').send('feedback');
    expect(text.status).toBe(415);
    expect(text.body.issue[0].details.coding[0].code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 404 UNKNOWN_SERVICE for a service id not in discovery, before reading the body', async () => {
    const response = await request(app).post('/cds-services/no-such-service/feedback').send({ feedback: [overrideItem] });
    expect(response.status).toBe(404);
    expect(response.body.issue[0].details.coding[0].code).toBe('UNKNOWN_SERVICE');
    expect((await store.report(KNOWN_RANGE)).cards[0]?.overridden).toBe(0);
  });

  it('answers 405 with Allow for other methods', async () => {
    const response = await request(app).get(URL);
    expect(response.status).toBe(405);
    expect(response.headers['allow']).toBe('POST, OPTIONS');
  });

  it('answers 503 STORE_UNAVAILABLE with an OperationOutcome and Retry-After when the store is down, so the EHR retries', async () => {
    await store.close();
    const response = await request(app).post(URL).send({ feedback: [overrideItem] });
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('30');
    expect(response.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'transient',
          details: { text: 'Storage is unavailable; retry later', coding: [{ system: 'urn:spine-safety-cds:error-code', code: 'STORE_UNAVAILABLE' }] },
        },
      ],
    });
    expect(metrics.feedback).toEqual([]);
  });

  it('answers 503 when the store rejects, whatever the error', async () => {
    const failing = feedbackApp({ recordFeedback: () => Promise.reject(new Error('connection terminated')) });
    const response = await request(failing).post(URL).send({ feedback: [overrideItem] });
    expect(response.status).toBe(503);
    expect(response.body.issue[0].details.coding[0].code).toBe('STORE_UNAVAILABLE');
  });
});
