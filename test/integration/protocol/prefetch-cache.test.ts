/**
 * A prefetch parsed once and remembered (src/http/prefetch-cache.ts) must never change a card:
 * every fixture of the decision table, sent three times to a service that remembers prefetches
 * (the first call parses it whole, the second apart, the third takes the remembered value), is
 * answered as by a service that parses each call whole; and the remembered value is still what
 * its bytes parse to, so no step of the evaluation changed what the next call will share.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import nock from 'nock';
import request from 'supertest';
import { createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createPrefetchCache, type PrefetchCache } from '../../../src/http/prefetch-cache.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { KNOWLEDGE, NOW, readFixture, readManifest } from '../clinical/support.js';
import { CPT } from '../clinical/policy-builders.js';
import { FHIR_BASE, hookRequest, PATIENT_ID, patientResource, SERVICE_IDS, searchset, stenosisCondition } from '../../helpers/requests.js';

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const member of Object.values(value)) deepFreeze(member);
}

/**
 * The cache under test, with every value it keeps frozen through: a step of the evaluation that
 * wrote into a shared prefetch would throw (strict mode) and turn its answer into a 500.
 */
function freezingCache(): PrefetchCache {
  const cache = createPrefetchCache({ maxBytes: 64 * 1024 * 1024, ttlMs: 3_600_000, now: () => NOW.getTime(), minBytes: 0 });
  return {
    ...cache,
    keep(bytes, value) {
      deepFreeze(value);
      return cache.keep(bytes, value);
    },
  };
}

/** The app's clock; a test may move it. */
const clock = { ms: NOW.getTime() };

function appWith(prefetchCache: PrefetchCache | undefined): Express {
  return createApp({
    config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PREFETCH_CACHE_MB: prefetchCache ? '16' : '0' }),
    knowledge: KNOWLEDGE,
    logger: createLogger('silent'),
    clock: () => new Date(clock.ms),
    ...(prefetchCache ? { prefetchCache } : {}),
  });
}

async function answer(app: Express, hook: keyof typeof SERVICE_IDS, text: string): Promise<{ status: number; body: unknown }> {
  const response = await request(app).post(`/cds-services/${SERVICE_IDS[hook]}`).set('Content-Type', 'application/json').send(text);
  return { status: response.status, body: response.body as unknown };
}

const fixtures = readManifest().fixtures.map((entry) => readFixture(entry.file));

let parsedWhole: Express;
let cache: PrefetchCache;
let remembering: Express;
beforeAll(() => {
  parsedWhole = appWith(undefined);
  // Every prefetch is remembered here, however small (the service's default leaves those under 2 KB).
  cache = freezingCache();
  remembering = appWith(cache);
});

describe('remembered prefetches (PREFETCH_CACHE_MB)', () => {
  it.each(fixtures.map((fixture) => ({ name: fixture.file, fixture })))('$name: three calls answered as a call parsed whole', async ({ fixture }) => {
    const text = JSON.stringify(fixture.body);
    const wanted = await answer(parsedWhole, fixture.hook, text);
    for (let call = 1; call <= 3; call += 1) expect({ call, ...(await answer(remembering, fixture.hook, text)) }).toEqual({ call, ...wanted });

    const body = fixture.body as Record<string, unknown>;
    const members = Object.keys(body);
    if (members[members.length - 1] === 'prefetch' && body['prefetch'] !== null && typeof body['prefetch'] === 'object') {
      const prefetchBytes = Buffer.from(JSON.stringify(body['prefetch']));
      const recalled = cache.recall(prefetchBytes);
      expect(recalled.kind).toBe('value');
      expect(recalled.kind === 'value' ? recalled.value : undefined).toEqual(JSON.parse(prefetchBytes.toString()));
    }
  });

  it.each(fixtures.slice(0, 40).map((fixture) => ({ name: fixture.file, fixture })))('$name: pretty-printed, and with the prefetch first, answered as parsed whole', async ({ fixture }) => {
    const body = fixture.body as Record<string, unknown>;
    const { prefetch, ...rest } = body;
    for (const text of [JSON.stringify(body, null, 2), JSON.stringify({ prefetch, ...rest })]) {
      const wanted = await answer(parsedWhole, fixture.hook, text);
      for (let call = 1; call <= 3; call += 1) expect({ call, ...(await answer(remembering, fixture.hook, text)) }).toEqual({ call, ...wanted });
    }
  });

  it.each(fixtures.map((fixture) => ({ name: fixture.file, fixture })))('$name: a remembered prefetch is read again on another day', async ({ fixture }) => {
    const YEARS_20 = 20 * 365 * 86_400_000;
    const text = JSON.stringify(fixture.body);
    try {
      clock.ms = NOW.getTime();
      for (let call = 1; call <= 3; call += 1) await answer(remembering, fixture.hook, text);
      for (const when of [NOW.getTime() + YEARS_20, NOW.getTime() - YEARS_20]) {
        clock.ms = when;
        const wanted = await answer(parsedWhole, fixture.hook, text);
        expect({ when, ...(await answer(remembering, fixture.hook, text)) }).toEqual({ when, ...wanted });
      }
    } finally {
      clock.ms = NOW.getTime();
    }
  });

  const orderFixtures = fixtures.filter((f) => f.hook === 'order-sign' || f.hook === 'order-select');
  it.each(orderFixtures.map((fixture) => ({ name: fixture.file, fixture })))('$name: a remembered prefetch is read again when the orders are for another patient', async ({ fixture }) => {
    const body = fixture.body as { context: { patientId: string } } & Record<string, unknown>;
    const text = JSON.stringify(body);
    for (let call = 1; call <= 3; call += 1) await answer(remembering, fixture.hook, text);
    // The same prefetch bytes; the context's patient and its draft orders' subjects are another's.
    const context = JSON.stringify(body.context).split(`Patient/${body.context.patientId}"`).join('Patient/another-patient"').replace(`"patientId":"${body.context.patientId}"`, '"patientId":"another-patient"');
    const moved = text.replace(JSON.stringify(body.context), context);
    expect(moved).not.toBe(text);
    const wanted = await answer(parsedWhole, fixture.hook, moved);
    expect(await answer(remembering, fixture.hook, moved)).toEqual(wanted);
  });
});

describe('what a remembered prefetch is read with', () => {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  });
  afterAll(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('reads the record again when its procedures come from a FHIR search, not from the prefetch', async () => {
    const remembering = createApp({ config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), knowledge: KNOWLEDGE, logger: createLogger('silent'), prefetchCache: freezingCache() });
    const whole = createApp({ config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PREFETCH_CACHE_MB: '0' }), knowledge: KNOWLEDGE, logger: createLogger('silent') });
    // The prefetch has the Conditions and no procedures key: each call searches for the Procedures.
    const text = JSON.stringify(hookRequest('order-sign', { prefetch: { patient: patientResource(), conditions: searchset([stenosisCondition()]) } }));
    const decompression = {
      resourceType: 'Procedure',
      id: 'proc-decompression-1',
      status: 'completed',
      subject: { reference: `Patient/${PATIENT_ID}` },
      code: { coding: [{ system: CPT, code: '63045' }] },
      performedDateTime: '2024-06-01',
    };
    const cardIds = new Set<string>();
    for (const procedures of [[], [], [], [decompression], [], [decompression]]) {
      nock(FHIR_BASE).get('/Procedure').query(true).times(2).reply(200, searchset(procedures), { 'Content-Type': 'application/fhir+json' });
      const wanted = await answer(whole, 'order-sign', text);
      const got = await answer(remembering, 'order-sign', text);
      expect({ procedures: procedures.length, ...got }).toEqual({ procedures: procedures.length, ...wanted });
      const cards = (wanted.body as { cards?: Array<{ source: { topic: { code: string } } }> }).cards ?? [];
      cardIds.add(cards.map((card) => card.source.topic.code).join(','));
    }
    // The decompression changes the card, so a record read kept across the searches would show.
    expect(cardIds.size).toBe(2);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('counts each prefetch as parsed, kept or taken in cds_prefetch_parse_total', async () => {
    const metrics = createMetrics();
    const app = createApp({ config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), knowledge: KNOWLEDGE, logger: createLogger('silent'), metrics, prefetchCache: freezingCache() });
    const fixture = fixtures.find((f) => f.hook === 'order-sign');
    if (!fixture) throw new Error('no order-sign fixture');
    const text = JSON.stringify(fixture.body);
    for (let call = 0; call < 4; call += 1) expect((await answer(app, 'order-sign', text)).status).toBe(200);
    const counted = await metrics.registry.getSingleMetric('cds_prefetch_parse_total')?.get();
    const byOutcome = Object.fromEntries((counted?.values ?? []).map((v) => [String(v.labels['outcome']), v.value]));
    expect(byOutcome).toEqual({ parsed: 1, kept: 1, taken: 2 });
  });
});
