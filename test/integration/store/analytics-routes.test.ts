import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import { createAnalyticsRouter } from '../../../src/http/analytics-routes.js';
import { loadKnowledge } from '../../../src/knowledge/load-knowledge.js';
import type { AnalyticsStore } from '../../../src/store/analytics-store.js';
import { describeCards } from '../../../src/store/describe-report.js';
import { appWith } from './http-harness.js';
import { CCM, createSqliteHarness, CSM, INF, issuedCard, overridden, seedKnownData, silentLogger } from './store-harness.js';

const TODAY = new Date('2026-12-06T15:00:00Z');

function analyticsApp(store: Pick<AnalyticsStore, 'report'>): Express {
  return appWith([createAnalyticsRouter({ store, logger: silentLogger, cards: describeCards(loadKnowledge()), now: () => TODAY })], silentLogger);
}

describe('analytics routes', () => {
  const harness = createSqliteHarness();
  let app: Express;

  beforeAll(async () => {
    const store = await harness.open();
    await seedKnownData(store);
    const hostile = '<img src=x onerror=alert(1)>"\'&';
    await store.recordIssued([issuedCard('hostile-1', hostile, '2026-11-20T10:00:00Z')]);
    await store.recordFeedback('svc', [overridden('hostile-1', '2026-11-20T11:00:00Z', { code: '<script>alert(2)</script>', display: '</td><script>alert(3)</script>' })], new Date());
    app = analyticsApp(store);
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  describe('GET /analytics/cards', () => {
    it('returns the report for the range as JSON', async () => {
      const response = await request(app).get('/analytics/cards?from=2026-11-01&to=2026-11-30');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body.from).toBe('2026-11-01');
      expect(response.body.to).toBe('2026-11-30');
      expect(response.body.unknownCardFeedback).toEqual({ total: 2, accepted: 1, overridden: 1 });
      const rows = response.body.cards.map((card: { cardId: string; issued: number; overridden: number; overrideRate: number | null; series: unknown[] }) => [
        card.cardId,
        card.issued,
        card.overridden,
        card.overrideRate,
        card.series.length,
      ]);
      expect(rows).toEqual([
        ['<img src=x onerror=alert(1)>"\'&', 1, 1, 1, 30],
        [CSM, 4, 4, 4 / 6, 30],
        [CCM, 2, 9, 0.9, 30],
        [INF, 1, 0, null, 30],
      ]);
    });

    it('names each card, defines its rates and flags override reasons the card never offered', async () => {
      const response = await request(app).get('/analytics/cards?from=2026-11-01&to=2026-11-30');
      const csm = response.body.cards.find((card: { cardId: string }) => card.cardId === CSM);
      expect(csm).toMatchObject({
        title: 'Massage or manual therapy of the neck with untreated cervical stenosis',
        indicator: 'warning',
        suppressed: 0,
        responseRate: 6 / 4,
        overridesWithReasonNotOffered: 4,
        byHook: { 'order-sign': { issued: 4, accepted: 2, overridden: 4, suppressed: 0 } },
      });
      expect(csm.topOverrideReasons[0]).toEqual({ code: 'benefit-outweighs-risk', display: 'Benefit outweighs risk', count: 2, offered: false });
      expect(Object.keys(response.body.definitions)).toEqual(['overrideRate', 'responseRate', 'suppressed']);
    });

    it('defaults to the last 30 days up to today (UTC)', async () => {
      const response = await request(app).get('/analytics/cards');
      expect(response.status).toBe(200);
      expect([response.body.from, response.body.to]).toEqual(['2026-11-07', '2026-12-06']);
      // never-issued-1 (11-10), never-issued-2 (11-11) and never-issued-3 (12-05) all fall in it.
      expect(response.body.unknownCardFeedback).toEqual({ total: 3, accepted: 1, overridden: 2 });
    });

    it('accepts a range of 366 days', async () => {
      const response = await request(app).get('/analytics/cards?from=2026-01-01&to=2027-01-01');
      expect(response.status).toBe(200);
    });

    it.each([
      ['a malformed date', 'from=2026-11-1&to=2026-11-30', 'from'],
      ['an impossible date', 'from=2026-02-30&to=2026-03-30', 'from'],
      ['a malformed end', 'from=2026-11-01&to=yesterday', 'to'],
      ['a reversed range', 'from=2026-12-01&to=2026-11-30', 'from'],
      ['a range of 367 days', 'from=2026-01-01&to=2027-01-02', 'to'],
      ['a repeated parameter', 'from=2026-11-01&from=2026-11-02&to=2026-11-30', 'from'],
    ])('answers 400 INVALID_REQUEST for %s', async (_case, query, path) => {
      const response = await request(app).get(`/analytics/cards?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.resourceType).toBe('OperationOutcome');
      expect(response.body.issue[0].details.coding[0].code).toBe('INVALID_REQUEST');
      expect(response.body.issue[0].expression).toEqual([path]);
      expect(JSON.stringify(response.body)).not.toContain('yesterday');
    });

    it('answers 503 STORE_UNAVAILABLE when the store fails', async () => {
      const failing = analyticsApp({ report: () => Promise.reject(new Error('down')) });
      const response = await request(failing).get('/analytics/cards?from=2026-11-01&to=2026-11-30');
      expect(response.status).toBe(503);
      expect(response.body.issue[0].details.coding[0].code).toBe('STORE_UNAVAILABLE');
    });
  });

  describe('GET /analytics', () => {
    it('serves a self-contained HTML page with a chart per card id and the report table', async () => {
      const response = await request(app).get('/analytics?from=2026-11-01&to=2026-11-30');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['content-security-policy']).toContain("default-src 'none'");
      const html = response.text;
      expect(html.match(/<svg /g)).toHaveLength(4);
      const csmName = `Massage or manual therapy of the neck with untreated cervical stenosis <span class="note">(${CSM}, warning)</span>`;
      expect(html).toContain(`<td>${csmName}</td><td>4</td><td>2</td><td>4</td><td>0</td><td>66.7%</td><td>150.0%</td><td>3</td><td>2</td>`);
      expect(html).toContain(`<td><span class="note">(${INF})</span></td><td>1</td><td>0</td><td>0</td><td>0</td><td>–</td><td>0.0%</td><td>0</td><td>0</td>`);
      expect(html).toContain(`<td>${csmName}</td><td>order-sign</td><td>4</td><td>2</td><td>4</td><td>0</td>`);
      expect(html).toContain('override rate = overridden ÷ answered');
      expect(html).toContain('response rate = answered ÷ issued');
      expect(html).toContain('Feedback for card uuids never recorded as issued: 2 (accepted 1, overridden 1)');
      expect(html).toContain('href="/analytics/cards?from=2026-11-01&#38;to=2026-11-30"');
      // Nothing is fetched from elsewhere and nothing runs.
      expect(html).not.toMatch(/<script|<link|<iframe|src=["']|@import|url\(/i);
      expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:\/\//);
    });

    it('escapes card ids, reason codes and displays', async () => {
      const response = await request(app).get('/analytics?from=2026-11-01&to=2026-11-30');
      const html = response.text;
      expect(html).not.toContain('<img');
      expect(html).not.toContain('<script');
      expect(html).not.toContain('</td><script');
      expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;&#34;&#39;&#38;');
      expect(html).toContain('&#60;/td&#62;&#60;script&#62;alert(3)&#60;/script&#62;');
    });

    it('answers 400 for an invalid range', async () => {
      const response = await request(app).get('/analytics?from=2026-12-01&to=2026-11-01');
      expect(response.status).toBe(400);
      expect(response.body.issue[0].details.coding[0].code).toBe('INVALID_REQUEST');
    });
  });
});
