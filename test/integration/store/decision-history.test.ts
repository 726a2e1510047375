/**
 * The history lookup of "saying it once" (clinical-policy.md §6) on each store: which past
 * showings of the decisions in hand it finds, at the edges of the lockout and its lookback.
 */
import { expect, it } from '@jest/globals';
import { patientHash } from '../../../src/security/patient-hash.js';
import type { AnalyticsStore } from '../../../src/store/analytics-store.js';
import type { DecisionKey, HistoryWindow, IssuedCard, PastShowing } from '../../../src/store/types.js';
import { CSM, describeEachStore, issuedCard, overridden } from './store-harness.js';

const HOUR_MS = 3_600_000;
const NOW = Date.parse('2026-11-24T12:00:00.000Z');
/** A 24-hour lockout: showings and answers count from `since`, answers to showings from `lookbackFrom`. */
const WINDOW: HistoryWindow = { since: new Date(NOW - 24 * HOUR_MS), lookbackFrom: new Date(NOW - 48 * HOUR_MS), now: new Date(NOW) };

const hashOf = (value: string): string => patientHash('history-test', value);
const hoursAgo = (hours: number): string => new Date(NOW - hours * HOUR_MS).toISOString();

/** A card shown to `patient` about `order`. */
function showing(cardUuid: string, patient: string, order: string, issuedAt: string): IssuedCard {
  return { ...issuedCard(cardUuid, CSM, issuedAt), patientHash: hashOf(patient), orderHash: hashOf(order) };
}

function key(order: string, cardUuid = `new-${order}`, showings = true): DecisionKey {
  return { orderHash: hashOf(order), cardId: CSM, cardUuid, showings };
}

/** What the lookup found, by card uuid, with its answers: the fields the repeat rules read. */
async function found(store: AnalyticsStore, patient: string, keys: readonly DecisionKey[]): Promise<Array<Pick<PastShowing, 'cardUuid' | 'answers'>>> {
  const past = await store.pastDecisions(hashOf(patient), keys, WINDOW);
  return past.map((p) => ({ cardUuid: p.cardUuid, answers: p.answers })).sort((a, b) => a.cardUuid.localeCompare(b.cardUuid));
}

describeEachStore('decision history', (location, kind) => {
  let serial = 0;
  /** A patient of its own for each test: the store location is shared by the suite. */
  const newPatient = (): string => `pt-history-${kind}-${(serial += 1)}`;

  it('finds nothing for a decision never shown, whatever was shown for other patients, orders and card ids', async () => {
    const store = await location().open();
    const patient = newPatient();
    await store.recordIssued([
      showing(`${patient}-other-patient`, `${patient}-x`, 'o-1', hoursAgo(1)),
      showing(`${patient}-other-order`, patient, 'o-2', hoursAgo(1)),
      { ...showing(`${patient}-other-card`, patient, 'o-1', hoursAgo(1)), cardId: 'another-card' },
    ]);
    expect(await found(store, patient, [key('o-1')])).toEqual([]);
  });

  it('finds a card shown before the lockout whose override came inside it', async () => {
    const store = await location().open();
    const patient = newPatient();
    await store.recordIssued([showing(`${patient}-early`, patient, 'o-1', hoursAgo(30))]);
    await store.recordFeedback('spine-safety-order-sign', [overridden(`${patient}-early`, hoursAgo(1))], new Date(NOW - HOUR_MS));
    expect(await found(store, patient, [key('o-1')])).toEqual([{ cardUuid: `${patient}-early`, answers: [{ outcome: 'overridden', at: NOW - HOUR_MS }] }]);
  });

  it('finds the card with the same uuid (a retry of the call)', async () => {
    const store = await location().open();
    const patient = newPatient();
    await store.recordIssued([showing(`${patient}-retried`, patient, 'o-1', hoursAgo(0.01))]);
    expect(await found(store, patient, [key('o-1', `${patient}-retried`)])).toEqual([{ cardUuid: `${patient}-retried`, answers: [] }]);
  });

  it('ignores a card shown before the lookback, even when it was answered inside the lockout', async () => {
    const store = await location().open();
    const patient = newPatient();
    await store.recordIssued([showing(`${patient}-old`, patient, 'o-1', hoursAgo(50))]);
    await store.recordFeedback('spine-safety-order-sign', [overridden(`${patient}-old`, hoursAgo(1))], new Date(NOW - HOUR_MS));
    expect(await found(store, patient, [key('o-1')])).toEqual([]);
  });

  it('answers for every decision of a call at once, more than one statement holds, and only for those shown', async () => {
    const store = await location().open();
    const patient = newPatient();
    const orders = Array.from({ length: 11 }, (_, index) => `o-${index}`);
    await store.recordIssued([showing(`${patient}-first`, patient, 'o-0', hoursAgo(2)), showing(`${patient}-last`, patient, 'o-10', hoursAgo(3))]);
    expect(await found(store, patient, orders.map((order) => key(order)))).toEqual([
      { cardUuid: `${patient}-first`, answers: [] },
      { cardUuid: `${patient}-last`, answers: [] },
    ]);
  });

  it('leaves out the latest showings of a decision whose rules do not read them, and keeps its retry and its answers', async () => {
    const store = await location().open();
    const patient = newPatient();
    await store.recordIssued([
      showing(`${patient}-answered`, patient, 'o-1', hoursAgo(5)),
      showing(`${patient}-latest`, patient, 'o-1', hoursAgo(1)),
      { ...showing(`${patient}-on-chart`, patient, 'o-1', hoursAgo(2)), hook: 'patient-view' },
      showing(`${patient}-retried`, patient, 'o-1', hoursAgo(3)),
    ]);
    await store.recordFeedback('spine-safety-order-sign', [overridden(`${patient}-answered`, hoursAgo(4))], new Date(NOW - 4 * HOUR_MS));
    const answered = { cardUuid: `${patient}-answered`, answers: [{ outcome: 'overridden', at: NOW - 4 * HOUR_MS }] };
    const retried = { cardUuid: `${patient}-retried`, answers: [] };
    expect(await found(store, patient, [key('o-1', `${patient}-retried`, false)])).toEqual([answered, retried]);
    expect(await found(store, patient, [key('o-1', `${patient}-retried`, true)])).toEqual([
      answered,
      { cardUuid: `${patient}-latest`, answers: [] },
      { cardUuid: `${patient}-on-chart`, answers: [] },
      retried,
    ]);
  });

  it('gives each decision of one call the branches it needs', async () => {
    const store = await location().open();
    const patient = newPatient();
    await store.recordIssued([showing(`${patient}-a`, patient, 'o-a', hoursAgo(1)), showing(`${patient}-b`, patient, 'o-b', hoursAgo(1))]);
    expect(await found(store, patient, [key('o-a', 'new-a', false), key('o-b', 'new-b', true)])).toEqual([{ cardUuid: `${patient}-b`, answers: [] }]);
  });
});
