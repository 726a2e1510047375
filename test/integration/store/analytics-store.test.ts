import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { AnalyticsStore } from '../../../src/store/analytics-store.js';
import type { CardReport } from '../../../src/store/report.js';
import {
  accepted,
  CCM,
  createHarness,
  CSM,
  IN_CI,
  INF,
  issuedCard,
  KNOWN_RANGE,
  overridden,
  POSTGRES_MISSING_MESSAGE,
  seedKnownData,
  STORE_KINDS,
  TEST_DATABASE_URL,
  type StoreHarness,
} from './store-harness.js';

if (TEST_DATABASE_URL === undefined && !IN_CI) console.warn(POSTGRES_MISSING_MESSAGE);

/** The same behaviour is required of both stores: this suite runs once per store. */
describe.each(STORE_KINDS)('%s analytics store', (kind) => {
  if (kind === 'postgres' && TEST_DATABASE_URL === undefined) {
    if (IN_CI) {
      it('has a PostgreSQL database to test against (TEST_DATABASE_URL is required when CI=true)', () => {
        throw new Error(POSTGRES_MISSING_MESSAGE);
      });
    } else {
      it.skip(`skipped: ${POSTGRES_MISSING_MESSAGE}`, () => undefined);
    }
    return;
  }

  let harness: StoreHarness;
  let store: AnalyticsStore;

  beforeEach(async () => {
    const created = createHarness(kind);
    if (!created) throw new Error(POSTGRES_MISSING_MESSAGE);
    harness = created;
    store = await harness.open();
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  it('applies each schema migration once and records its version', async () => {
    await harness.open();
    expect(await harness.migrationVersions()).toEqual([1, 2, 3]);
  });

  it('stores each feedback item once however often it is sent', async () => {
    await store.recordIssued([issuedCard('c-1', CSM, '2026-11-01T09:00:00Z')]);
    const batch = [
      overridden('c-1', '2026-11-01T10:00:00Z', { code: 'other' }),
      accepted('c-1', '2026-11-01T10:00:00Z', ['s-1']),
      overridden('c-1', '2026-11-01T11:00:00Z'),
    ];
    expect(await store.recordFeedback('svc', batch, new Date())).toEqual({ stored: 3, duplicates: 0 });
    expect(await store.recordFeedback('svc', batch, new Date())).toEqual({ stored: 0, duplicates: 3 });
    // The same instant written differently is the same feedback; a repeat inside one batch counts as a duplicate.
    const rewritten = overridden('c-1', '2026-11-01T12:00:00.000+02:00');
    expect(await store.recordFeedback('svc', [rewritten, rewritten], new Date())).toEqual({ stored: 0, duplicates: 2 });

    const [card] = (await store.report(KNOWN_RANGE)).cards;
    expect(card).toMatchObject({ cardId: CSM, issued: 1, accepted: 1, overridden: 2 });
  });

  it('records an issued card once however often it is sent', async () => {
    const card = issuedCard('c-1', CSM, '2026-11-01T09:00:00Z');
    await store.recordIssued([card, card]);
    await store.recordIssued([card]);
    const report = await store.report(KNOWN_RANGE);
    expect(report.cards.map((c) => [c.cardId, c.issued])).toEqual([[CSM, 1]]);
  });

  it('keeps feedback for a card it never issued, marked unknown, and marks it known once the card is recorded', async () => {
    expect(await store.recordFeedback('svc', [overridden('late-card', '2026-11-02T10:00:00Z')], new Date())).toEqual({ stored: 1, duplicates: 0 });
    expect(await harness.knownFlags('late-card')).toEqual([false]);
    let report = await store.report(KNOWN_RANGE);
    expect(report.unknownCardFeedback).toEqual({ total: 1, accepted: 0, overridden: 1 });
    expect(report.cards).toEqual([]);

    await store.recordIssued([issuedCard('late-card', CSM, '2026-11-02T09:59:00Z')]);
    expect(await harness.knownFlags('late-card')).toEqual([true]);
    report = await store.report(KNOWN_RANGE);
    expect(report.unknownCardFeedback).toEqual({ total: 0, accepted: 0, overridden: 0 });
    expect(report.cards[0]).toMatchObject({ cardId: CSM, issued: 1, overridden: 1, overrideRate: 1 });

    await store.recordFeedback('svc', [accepted('late-card', '2026-11-02T11:00:00Z', [])], new Date());
    expect(await harness.knownFlags('late-card')).toEqual([true, true]);
  });

  it('stores each item exactly once under 10 concurrent writers with overlapping batches', async () => {
    const uuids = Array.from({ length: 20 }, (_, i) => `card-${i}`);
    const items = uuids.map((uuid, i) => overridden(uuid, `2026-11-0${1 + (i % 9)}T10:00:00Z`, { code: `reason-${i % 3}` }));
    // Writer w sends items w..w+9 (wrapping): every item goes out in 10 batches at once.
    const batches = Array.from({ length: 10 }, (_, w) => Array.from({ length: 10 }, (_, k) => items[(w * 2 + k) % items.length]!));
    const issuedBatches = Array.from({ length: 10 }, (_, w) =>
      Array.from({ length: 10 }, (_, k) => {
        const i = (w * 2 + k) % uuids.length;
        return issuedCard(uuids[i]!, i % 2 === 0 ? CSM : CCM, `2026-11-0${1 + (i % 9)}T09:00:00Z`);
      }),
    );
    const results = await Promise.all([
      ...batches.map((batch) => store.recordFeedback('svc', batch, new Date())),
      ...issuedBatches.map(async (batch) => {
        await store.recordIssued(batch);
        return { stored: 0, duplicates: 0 };
      }),
    ]);
    expect(results.reduce((sum, r) => sum + r.stored, 0)).toBe(20);
    expect(results.reduce((sum, r) => sum + r.duplicates, 0)).toBe(80);

    const report = await store.report(KNOWN_RANGE);
    expect(report.cards.map((c) => [c.cardId, c.issued, c.overridden])).toEqual([
      [CSM, 10, 10],
      [CCM, 10, 10],
    ]);
    // Feedback written before its card landed is marked known once the card is recorded.
    expect(report.unknownCardFeedback.total).toBe(0);
    const flags = await Promise.all(uuids.map((uuid) => harness.knownFlags(uuid)));
    expect(flags.flat()).toEqual(Array.from({ length: 20 }, () => true));
  });

  it('keeps what it stored across a restart', async () => {
    await seedKnownData(store);
    const before = await store.report(KNOWN_RANGE);
    await store.close();

    const reopened = await harness.open();
    expect(await reopened.report(KNOWN_RANGE)).toEqual(before);
    expect(await reopened.recordFeedback('svc', [overridden('csm-1', '2026-11-01T10:00:00Z', { code: 'x' })], new Date())).toEqual({
      stored: 0,
      duplicates: 1,
    });
    expect(await harness.migrationVersions()).toEqual([1, 2, 3]);
  });

  it('reports exact per-card numbers on known data', async () => {
    expect(await seedKnownData(store)).toEqual({ stored: 20, duplicates: 1 });
    const report = await store.report(KNOWN_RANGE);

    expect(report.from).toBe('2026-11-01');
    expect(report.to).toBe('2026-11-30');
    expect(report.unknownCardFeedback).toEqual({ total: 2, accepted: 1, overridden: 1 });
    expect(report.cards.map((card) => card.cardId)).toEqual([CSM, CCM, INF]);
    const [csm, ccm, inf] = report.cards;
    const withoutSeries = (card: CardReport | undefined) => {
      if (!card) throw new Error('missing card');
      const { series, overrideReasons, byHook, ...rest } = card;
      expect(series).toHaveLength(30);
      expect(overrideReasons.slice(0, 5)).toEqual(card.topOverrideReasons);
      expect(Object.keys(byHook)).toEqual(['order-sign']);
      return rest;
    };
    expect(csm?.byHook).toEqual({ 'order-sign': { issued: 4, accepted: 2, overridden: 4, suppressed: 0 } });
    expect(withoutSeries(csm)).toEqual({
      cardId: CSM,
      issued: 4,
      accepted: 2,
      overridden: 4,
      overrideRate: 4 / 6,
      responseRate: 6 / 4,
      suppressed: 0,
      suppressedByReason: {},
      suggestionsTaken: 3,
      comments: 2,
      topOverrideReasons: [
        { code: 'benefit-outweighs-risk', display: 'Benefit outweighs risk', count: 2 },
        { code: 'already-assessed', display: 'Already assessed', count: 1 },
        { code: 'other', count: 1 },
      ],
    });
    expect(withoutSeries(ccm)).toEqual({
      cardId: CCM,
      issued: 2,
      accepted: 1,
      overridden: 9,
      overrideRate: 0.9,
      responseRate: 10 / 2,
      suppressed: 0,
      suppressedByReason: {},
      suggestionsTaken: 0,
      comments: 0,
      topOverrideReasons: [
        { code: 'r1', display: 'Reason one', count: 3 },
        { code: 'r2', count: 2 },
        { code: 'r3', count: 1 },
        { code: 'r4', count: 1 },
        { code: 'r5', count: 1 },
      ],
    });
    expect(withoutSeries(inf)).toEqual({
      cardId: INF,
      issued: 1,
      accepted: 0,
      overridden: 0,
      overrideRate: null,
      responseRate: 0,
      suppressed: 0,
      suppressedByReason: {},
      suggestionsTaken: 0,
      comments: 0,
      topOverrideReasons: [],
    });

    const activeDays = (card: CardReport | undefined) =>
      (card?.series ?? []).filter((point) => point.issued + point.accepted + point.overridden > 0);
    expect(activeDays(csm)).toEqual([
      { day: '2026-11-01', issued: 2, accepted: 1, overridden: 1, overrideRate: 0.5 },
      { day: '2026-11-02', issued: 1, accepted: 1, overridden: 2, overrideRate: 2 / 3 },
      { day: '2026-11-30', issued: 1, accepted: 0, overridden: 1, overrideRate: 1 },
    ]);
    expect(activeDays(ccm)).toEqual([{ day: '2026-11-03', issued: 2, accepted: 1, overridden: 9, overrideRate: 0.9 }]);
    expect(csm?.series[0]).toEqual({ day: '2026-11-01', issued: 2, accepted: 1, overridden: 1, overrideRate: 0.5 });
    expect(csm?.series[3]).toEqual({ day: '2026-11-04', issued: 0, accepted: 0, overridden: 0, overrideRate: null });
  });

  it('counts events on their UTC day, with both ends of the range included', async () => {
    await seedKnownData(store);
    const lastDay = await store.report({ from: '2026-11-30', to: '2026-11-30' });
    expect(lastDay.cards.map((c) => [c.cardId, c.issued, c.overridden])).toEqual([[CSM, 1, 1]]);
    const december = await store.report({ from: '2026-12-01', to: '2026-12-31' });
    expect(december.cards.map((c) => [c.cardId, c.issued, c.overridden])).toEqual([[CSM, 1, 1]]);
    expect(december.unknownCardFeedback).toEqual({ total: 1, accepted: 0, overridden: 1 });
    const october = await store.report({ from: '2026-10-31', to: '2026-10-31' });
    expect(october.cards.map((c) => [c.cardId, c.issued, c.overridden])).toEqual([[CSM, 1, 0]]);
  });

  it('answers ping while open and rejects every call once closed', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
    await expect(store.recordFeedback('svc', [overridden('c', '2026-11-01T00:00:00Z')], new Date())).rejects.toThrow();
    await expect(store.recordIssued([issuedCard('c', CSM, '2026-11-01T00:00:00Z')])).rejects.toThrow();
    await expect(store.report(KNOWN_RANGE)).rejects.toThrow();
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('refuses an issued card whose patient hash is not a hex HMAC', async () => {
    const card = { ...issuedCard('c-raw', CSM, '2026-11-01T00:00:00Z'), patientHash: 'Patient/123' };
    await expect(store.recordIssued([card])).rejects.toThrow(/patientHash/);
    expect((await store.report(KNOWN_RANGE)).cards).toEqual([]);
  });
});

describe('SQLite and PostgreSQL stores', () => {
  const run = TEST_DATABASE_URL === undefined && !IN_CI ? it.skip : it;
  run('give identical reports for the same writes', async () => {
    const harnesses = STORE_KINDS.map((kind) => createHarness(kind));
    try {
      const reports = await Promise.all(
        harnesses.map(async (harness) => {
          if (!harness) throw new Error(POSTGRES_MISSING_MESSAGE);
          const store = await harness.open();
          await seedKnownData(store);
          return Promise.all([store.report(KNOWN_RANGE), store.report({ from: '2026-10-15', to: '2026-12-15' })]);
        }),
      );
      expect(reports[1]).toEqual(reports[0]);
    } finally {
      await Promise.all(harnesses.map((harness) => harness?.cleanup()));
    }
  });
});
