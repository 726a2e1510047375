/**
 * clinical-policy.md §6 "Saying it once", through the real service and feedback endpoints, on
 * SQLite and on PostgreSQL, with two service instances sharing one store location.
 */
import { expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { createApp } from '../../../src/app.js';
import { createFeedbackRouter } from '../../../src/http/feedback-routes.js';
import { createMetrics, type ServiceMetrics } from '../../../src/ops/metrics.js';
import type { AnalyticsStore } from '../../../src/store/analytics-store.js';
import { createCardRecorder, type QueuedCardRecorder } from '../../../src/store/recorder.js';
import type { DecisionHistory } from '../../../src/store/types.js';
import {
  fullPrefetch,
  hookRequest,
  neckMassageOrder,
  searchset,
  SERVICE_IDS,
  stenosisCondition,
  testKnowledge,
  testServiceConfig,
  type HookName,
  type Json,
} from '../../helpers/requests.js';
import { describeEachStore, silentLogger, type StoreHarness } from './store-harness.js';

const HOUR_MS = 3_600_000;
const START = Date.parse('2026-11-24T08:00:00Z');

/** A clock the test moves by hand. */
function testClock(): { now: () => Date; advanceHours: (hours: number) => void } {
  let at = START;
  return { now: () => new Date(at), advanceHours: (hours) => void (at += hours * HOUR_MS) };
}

const ReturnedCard = z.looseObject({
  uuid: z.string(),
  indicator: z.enum(['info', 'warning', 'critical']),
  source: z.looseObject({ topic: z.looseObject({ code: z.string() }) }),
  suggestions: z.array(z.looseObject({ uuid: z.string().optional() })).optional(),
});
const CardsBody = z.looseObject({ cards: z.array(ReturnedCard) });
type ReturnedCard = z.infer<typeof ReturnedCard>;

interface Instance {
  readonly app: Express;
  readonly metrics: ServiceMetrics;
  readonly store: AnalyticsStore;
  /** Writes what the recorder has queued (shown and held-back cards). */
  settle(): Promise<void>;
}

interface InstanceOptions {
  readonly lockoutHours?: string;
  readonly history?: DecisionHistory;
  readonly historyBudgetMs?: number;
}

/** One service instance (its own app, recorder and store connection) on a shared store location. */
async function openInstance(harness: StoreHarness, clock: () => Date, options: InstanceOptions = {}): Promise<Instance> {
  const store: AnalyticsStore = await harness.open();
  const metrics = createMetrics();
  const recorder: QueuedCardRecorder = createCardRecorder(store, silentLogger, metrics);
  const config = testServiceConfig({ SUPPRESSION_LOCKOUT_HOURS: options.lockoutHours ?? '24' });
  const knowledge = testKnowledge();
  const app = createApp({
    config,
    knowledge,
    logger: silentLogger,
    metrics,
    recorder,
    history: options.history ?? store,
    clock,
    ...(options.historyBudgetMs !== undefined ? { historyBudgetMs: options.historyBudgetMs } : {}),
    protectedRouters: [
      createFeedbackRouter({
        store,
        logger: silentLogger,
        metrics,
        bodyLimitBytes: config.bodyLimitBytes,
        knownServiceIds: new Set(knowledge.hooks.map((hook) => hook.id)),
        now: clock,
      }),
    ],
  });
  return { app, metrics, store, settle: () => recorder.flush() };
}

/** A remote-site massage (row 4 with stenosis: info). */
function calfMassageOrder(patientId: string, id: string, status = 'draft'): Json {
  return {
    ...neckMassageOrder(patientId, id, status),
    bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: '122495006', display: 'Thoracic spine' }], text: 'Thoracic spine' }],
  };
}

/** Untreated cord compression (row 1: critical on any massage). */
function cordCompression(patientId: string): Json {
  return {
    ...stenosisCondition(patientId, 'cond-cord-1'),
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'G95.20', display: 'Unspecified cord compression' }] },
  };
}

interface CallOptions {
  readonly patientId: string;
  readonly orders: readonly Json[];
  readonly conditions?: readonly Json[];
  readonly hookInstance?: string;
}

/** The request body of one call: the orders as draft orders, or on patient-view as prefetched orders. */
function callBody(hook: HookName, options: CallOptions): Json {
  const prefetch: Json = {
    ...fullPrefetch(hook, options.patientId),
    conditions: searchset(options.conditions ?? [stenosisCondition(options.patientId)]),
    ...(hook === 'patient-view' ? { serviceRequests: searchset(options.orders) } : {}),
  };
  const body = hookRequest(hook, { patientId: options.patientId, fhirServer: undefined, orders: options.orders, prefetch });
  return options.hookInstance !== undefined ? { ...body, hookInstance: options.hookInstance } : body;
}

async function send(instance: Instance, hook: HookName, body: Json): Promise<ReturnedCard[]> {
  const response = await request(instance.app).post(`/cds-services/${SERVICE_IDS[hook]}`).send(body);
  expect(response.status).toBe(200);
  await instance.settle();
  return CardsBody.parse(response.body).cards;
}

async function call(instance: Instance, hook: HookName, options: CallOptions): Promise<ReturnedCard[]> {
  return send(instance, hook, callBody(hook, options));
}

function cardIds(cards: readonly ReturnedCard[]): string[] {
  return cards.map((card) => card.source.topic.code);
}

async function answer(instance: Instance, hook: HookName, card: ReturnedCard, outcome: 'accepted' | 'overridden', at: Date): Promise<void> {
  const item =
    outcome === 'accepted'
      ? { card: card.uuid, outcome, acceptedSuggestions: [{ id: card.suggestions?.[0]?.uuid ?? 'none' }], outcomeTimestamp: at.toISOString() }
      : { card: card.uuid, outcome, overrideReason: { reason: { code: 'patient-accepts-risk' } }, outcomeTimestamp: at.toISOString() };
  const response = await request(instance.app).post(`/cds-services/${SERVICE_IDS[hook]}/feedback`).send({ feedback: [item] });
  expect(response.status).toBe(200);
}

async function counterValue(metrics: ServiceMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted));
  return match?.value ?? 0;
}

const WARNING = 'cervical-stenosis-massage';
const INFO = 'cervical-stenosis-remote-site';
const CRITICAL = 'cord-compression-manual-therapy';
const ORDER_HOOKS: readonly HookName[] = ['order-select', 'order-sign'];

describeEachStore('saying it once', (location, kind) => {
  let serial = 0;
  /** A patient of its own for each test, so tests sharing the store location do not see each other. */
  const newPatient = (): string => `pt-${kind}-${(serial += 1)}`;

  it('answers a retried call (same hookInstance, context and prefetch) with the same cards and uuids, counted once', async () => {
    const clock = testClock();
    const instance = await openInstance(location(), clock.now);
    const patientId = newPatient();
    for (const hook of ['order-sign', 'patient-view'] as const) {
      const body = callBody(hook, { patientId, orders: [calfMassageOrder(patientId, `o-${hook}`, hook === 'patient-view' ? 'active' : 'draft')] });
      const first = await send(instance, hook, body);
      clock.advanceHours(0.01);
      const retry = await send(instance, hook, body);
      expect(cardIds(first)).toEqual([INFO]);
      expect(retry).toEqual(first);
    }
    expect(await counterValue(instance.metrics, 'cds_cards_total', { card_id: INFO })).toBe(2);
  });

  it('treats the same hookInstance with another context as a new call (new uuids)', async () => {
    const clock = testClock();
    const instance = await openInstance(location(), clock.now);
    const patientId = newPatient();
    const first = await call(instance, 'order-sign', { patientId, orders: [neckMassageOrder(patientId, 'o-1')], hookInstance: 'one-for-all' });
    const second = await call(instance, 'order-sign', { patientId, orders: [neckMassageOrder(patientId, 'o-2')], hookInstance: 'one-for-all' });
    expect(cardIds(first)).toEqual([WARNING]);
    expect(cardIds(second)).toEqual([WARNING]);
    expect(second[0]?.uuid).not.toBe(first[0]?.uuid);
  });

  it('holds back an overridden warning on every hook within the lockout, and shows it again after', async () => {
    const clock = testClock();
    const instance = await openInstance(location(), clock.now);
    const patientId = newPatient();
    const order = neckMassageOrder(patientId, 'o-warn');
    const [shown] = await call(instance, 'order-select', { patientId, orders: [order] });
    if (!shown) throw new Error('no card to override');
    await answer(instance, 'order-select', shown, 'overridden', clock.now());
    for (const hook of ORDER_HOOKS) expect(await call(instance, hook, { patientId, orders: [order] })).toEqual([]);
    expect(await call(instance, 'patient-view', { patientId, orders: [neckMassageOrder(patientId, 'o-warn', 'active')] })).toEqual([]);
    expect(await counterValue(instance.metrics, 'cds_cards_suppressed_total', { card_id: WARNING, reason: 'overridden' })).toBe(3);

    clock.advanceHours(25);
    expect(cardIds(await call(instance, 'order-sign', { patientId, orders: [order] }))).toEqual([WARNING]);
  });

  it('holds back an overridden critical card too, on every hook', async () => {
    const clock = testClock();
    const instance = await openInstance(location(), clock.now);
    const patientId = newPatient();
    const conditions = [cordCompression(patientId)];
    const [shown] = await call(instance, 'order-sign', { patientId, orders: [neckMassageOrder(patientId, 'o-crit')], conditions });
    expect(shown?.indicator).toBe('critical');
    if (!shown) throw new Error('no card to override');
    await answer(instance, 'order-sign', shown, 'overridden', clock.now());
    expect(await call(instance, 'order-sign', { patientId, orders: [neckMassageOrder(patientId, 'o-crit')], conditions })).toEqual([]);
  });

  it('shows the card again when the overridden order rises to critical (escalation)', async () => {
    const clock = testClock();
    const instance = await openInstance(location(), clock.now);
    const patientId = newPatient();
    const order = neckMassageOrder(patientId, 'o-esc');
    const [warning] = await call(instance, 'order-sign', { patientId, orders: [order] });
    if (!warning) throw new Error('no card to override');
    await answer(instance, 'order-sign', warning, 'overridden', clock.now());
    const escalated = await call(instance, 'order-sign', { patientId, orders: [order], conditions: [stenosisCondition(patientId), cordCompression(patientId)] });
    expect(cardIds(escalated)).toEqual([CRITICAL]);
    expect(escalated[0]?.indicator).toBe('critical');
  });

  it('shows an info card once on any hook within the lockout', async () => {
    const clock = testClock();
    const instance = await openInstance(location(), clock.now);
    const patientId = newPatient();
    expect(cardIds(await call(instance, 'order-select', { patientId, orders: [calfMassageOrder(patientId, 'o-info')] }))).toEqual([INFO]);
    expect(await call(instance, 'order-sign', { patientId, orders: [calfMassageOrder(patientId, 'o-info')] })).toEqual([]);
    expect(await call(instance, 'patient-view', { patientId, orders: [calfMassageOrder(patientId, 'o-info', 'active')] })).toEqual([]);
    expect(await counterValue(instance.metrics, 'cds_cards_suppressed_total', { card_id: INFO, reason: 'info-already-shown' })).toBe(2);
    clock.advanceHours(24.5);
    expect(cardIds(await call(instance, 'order-sign', { patientId, orders: [calfMassageOrder(patientId, 'o-info')] }))).toEqual([INFO]);
  });

  it('shows a warning once on patient-view, but again on the order hooks', async () => {
    const clock = testClock();
    const instance = await openInstance(location(), clock.now);
    const patientId = newPatient();
    const signed = neckMassageOrder(patientId, 'o-pv', 'active');
    expect(cardIds(await call(instance, 'patient-view', { patientId, orders: [signed] }))).toEqual([WARNING]);
    expect(await call(instance, 'patient-view', { patientId, orders: [signed] })).toEqual([]);
    expect(await counterValue(instance.metrics, 'cds_cards_suppressed_total', { card_id: WARNING, reason: 'patient-view-already-shown' })).toBe(1);
    for (const hook of ORDER_HOOKS) expect(cardIds(await call(instance, hook, { patientId, orders: [neckMassageOrder(patientId, 'o-pv')] }))).toEqual([WARNING]);
  });

  it('records every held-back card in the analytics, per card id, reason and hook', async () => {
    const clock = testClock();
    const patientId = newPatient();
    const before = (await (await openInstance(location(), clock.now)).store.report({ from: '2026-11-24', to: '2026-11-24' })).cards.find((c) => c.cardId === INFO);
    const instance = await openInstance(location(), clock.now);
    await call(instance, 'order-sign', { patientId, orders: [calfMassageOrder(patientId, 'o-count')] });
    await call(instance, 'order-sign', { patientId, orders: [calfMassageOrder(patientId, 'o-count')] });
    await call(instance, 'order-select', { patientId, orders: [calfMassageOrder(patientId, 'o-count')] });
    const after = (await instance.store.report({ from: '2026-11-24', to: '2026-11-24' })).cards.find((c) => c.cardId === INFO);
    expect((after?.suppressedByReason['info-already-shown'] ?? 0) - (before?.suppressedByReason['info-already-shown'] ?? 0)).toBe(2);
    expect((after?.byHook['order-select']?.suppressed ?? 0) - (before?.byHook['order-select']?.suppressed ?? 0)).toBe(1);
    expect((after?.issued ?? 0) - (before?.issued ?? 0)).toBe(1);
  });

  it('records a held-back card of a retried call once', async () => {
    const clock = testClock();
    const patientId = newPatient();
    const before = (await (await openInstance(location(), clock.now)).store.report({ from: '2026-11-24', to: '2026-11-24' })).cards.find((c) => c.cardId === INFO);
    const instance = await openInstance(location(), clock.now);
    expect(cardIds(await call(instance, 'order-sign', { patientId, orders: [calfMassageOrder(patientId, 'o-retried')] }))).toEqual([INFO]);
    const held = callBody('order-select', { patientId, orders: [calfMassageOrder(patientId, 'o-retried')] });
    expect(await send(instance, 'order-select', held)).toEqual([]);
    clock.advanceHours(0.01);
    expect(await send(instance, 'order-select', held)).toEqual([]);
    const after = (await instance.store.report({ from: '2026-11-24', to: '2026-11-24' })).cards.find((c) => c.cardId === INFO);
    expect((after?.suppressedByReason['info-already-shown'] ?? 0) - (before?.suppressedByReason['info-already-shown'] ?? 0)).toBe(1);
  });

  it('shows an unanswered warning on the order hooks and an unanswered critical card on every hook, each time', async () => {
    const clock = testClock();
    const instance = await openInstance(location(), clock.now);
    const patientId = newPatient();
    for (const hook of ORDER_HOOKS) {
      expect(cardIds(await call(instance, hook, { patientId, orders: [neckMassageOrder(patientId, 'o-again')] }))).toEqual([WARNING]);
      expect(cardIds(await call(instance, hook, { patientId, orders: [neckMassageOrder(patientId, 'o-again')] }))).toEqual([WARNING]);
    }
    const conditions = [cordCompression(patientId)];
    for (const hook of ['patient-view', 'patient-view', 'order-sign'] as const) {
      const status = hook === 'patient-view' ? 'active' : 'draft';
      expect(cardIds(await call(instance, hook, { patientId, orders: [neckMassageOrder(patientId, 'o-crit-again', status)], conditions }))).toEqual([CRITICAL]);
    }
  });

  it('shows an accepted card again when the order comes back', async () => {
    const clock = testClock();
    const instance = await openInstance(location(), clock.now);
    const patientId = newPatient();
    const order = neckMassageOrder(patientId, 'o-back');
    const [shown] = await call(instance, 'order-sign', { patientId, orders: [order] });
    if (!shown) throw new Error('no card to accept');
    await answer(instance, 'order-sign', shown, 'accepted', clock.now());
    clock.advanceHours(1);
    expect(cardIds(await call(instance, 'order-sign', { patientId, orders: [order] }))).toEqual([WARNING]);
  });

  it('turns suppression off with SUPPRESSION_LOCKOUT_HOURS=0', async () => {
    const clock = testClock();
    const instance = await openInstance(location(), clock.now, { lockoutHours: '0' });
    const patientId = newPatient();
    const order = neckMassageOrder(patientId, 'o-off');
    const [shown] = await call(instance, 'order-sign', { patientId, orders: [order] });
    if (!shown) throw new Error('no card to override');
    await answer(instance, 'order-sign', shown, 'overridden', clock.now());
    expect(cardIds(await call(instance, 'order-sign', { patientId, orders: [order] }))).toEqual([WARNING]);
  });

  it('shares the history between two instances on one store: answered on one, held back on the other', async () => {
    const clock = testClock();
    const first = await openInstance(location(), clock.now);
    const second = await openInstance(location(), clock.now);
    const patientId = newPatient();
    const order = neckMassageOrder(patientId, 'o-shared');
    const [shown] = await call(first, 'order-select', { patientId, orders: [order] });
    if (!shown) throw new Error('no card to override');
    await answer(first, 'order-select', shown, 'overridden', clock.now());
    expect(await call(second, 'order-sign', { patientId, orders: [order] })).toEqual([]);
  });

  it('keeps the history across a restart', async () => {
    const clock = testClock();
    const before = await openInstance(location(), clock.now);
    const patientId = newPatient();
    expect(cardIds(await call(before, 'order-sign', { patientId, orders: [calfMassageOrder(patientId, 'o-restart')] }))).toEqual([INFO]);
    await before.store.close();
    const after = await openInstance(location(), clock.now);
    expect(await call(after, 'order-sign', { patientId, orders: [calfMassageOrder(patientId, 'o-restart')] })).toEqual([]);
  });

  it('shows the cards and counts the miss when the history fails or does not answer in time', async () => {
    const clock = testClock();
    const patientId = newPatient();
    const seed = await openInstance(location(), clock.now);
    expect(cardIds(await call(seed, 'order-sign', { patientId, orders: [calfMassageOrder(patientId, 'o-down')] }))).toEqual([INFO]);

    const failing = await openInstance(location(), clock.now, { history: { pastDecisions: () => Promise.reject(new Error('database down')) } });
    expect(cardIds(await call(failing, 'order-sign', { patientId, orders: [calfMassageOrder(patientId, 'o-down')] }))).toEqual([INFO]);
    expect(await counterValue(failing.metrics, 'cds_decision_history_misses_total', { outcome: 'error' })).toBe(1);

    const hanging = await openInstance(location(), clock.now, { history: { pastDecisions: () => new Promise(() => undefined) }, historyBudgetMs: 5 });
    expect(cardIds(await call(hanging, 'order-sign', { patientId, orders: [calfMassageOrder(patientId, 'o-down')] }))).toEqual([INFO]);
    expect(await counterValue(hanging.metrics, 'cds_decision_history_misses_total', { outcome: 'timeout' })).toBe(1);
  });
});
