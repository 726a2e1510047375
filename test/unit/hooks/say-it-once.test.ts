import { describe, expect, it } from '@jest/globals';
import type { CdsCard } from '../../../src/cards/types.js';
import { callIds } from '../../../src/hooks/call-ids.js';
import type { Evaluation } from '../../../src/hooks/evaluate-hook.js';
import { createSayItOnce, judgeRepeat, readsShowings, type DecidedCard } from '../../../src/hooks/say-it-once.js';
import type { Metrics } from '../../../src/ops/types.js';
import { patientHash } from '../../../src/security/patient-hash.js';
import type { CardRecorder, DecisionHistory, IssuedCard, PastShowing, SuppressedCard } from '../../../src/store/types.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-24T12:00:00Z');
const LOCKOUT = 24 * HOUR;
const ORDER = 'b'.repeat(64);

function card(indicator: DecidedCard['indicator'], cardId = 'a-card', uuid = 'new-uuid'): DecidedCard {
  return { cardId, indicator, uuid, orderHash: ORDER };
}

function shown(overrides: Partial<PastShowing> = {}): PastShowing {
  return { cardUuid: 'old-uuid', cardId: 'a-card', orderHash: ORDER, hook: 'order-sign', indicator: 'warning', shownAt: NOW - HOUR, answers: [], ...overrides };
}

describe('judgeRepeat (clinical-policy §6)', () => {
  it('shows a card whose uuid was already shown again, as a repeat of the same call', () => {
    expect(judgeRepeat(card('info', 'a-card', 'old-uuid'), 'order-sign', [shown({ indicator: 'info' })], NOW, LOCKOUT)).toEqual({ show: true, repeat: true });
  });

  it('holds back an overridden decision within the lockout, on any hook', () => {
    const past = [shown({ answers: [{ outcome: 'overridden', at: NOW - HOUR / 2 }] })];
    for (const hook of ['order-sign', 'order-select', 'patient-view', 'appointment-book']) {
      expect(judgeRepeat(card('warning'), hook, past, NOW, LOCKOUT)).toEqual({ show: false, reason: 'overridden' });
    }
  });

  it('shows an overridden decision whose indicator rose, and one overridden before the lockout', () => {
    expect(judgeRepeat(card('critical'), 'order-sign', [shown({ answers: [{ outcome: 'overridden', at: NOW - HOUR }] })], NOW, LOCKOUT).show).toBe(true);
    expect(judgeRepeat(card('warning'), 'order-sign', [shown({ shownAt: NOW - 30 * HOUR, answers: [{ outcome: 'overridden', at: NOW - 25 * HOUR }] })], NOW, LOCKOUT).show).toBe(true);
  });

  it('holds back an info card shown within the lockout on any hook, and shows it after', () => {
    const past = [shown({ indicator: 'info', hook: 'order-select' })];
    expect(judgeRepeat(card('info'), 'patient-view', past, NOW, LOCKOUT)).toEqual({ show: false, reason: 'info-already-shown' });
    expect(judgeRepeat(card('info'), 'order-sign', past, NOW + 24 * HOUR, LOCKOUT).show).toBe(true);
  });

  it('holds back a warning shown on patient-view only on patient-view', () => {
    const past = [shown({ hook: 'patient-view' })];
    expect(judgeRepeat(card('warning'), 'patient-view', past, NOW, LOCKOUT)).toEqual({ show: false, reason: 'patient-view-already-shown' });
    expect(judgeRepeat(card('warning'), 'order-sign', past, NOW, LOCKOUT).show).toBe(true);
    expect(judgeRepeat(card('warning'), 'patient-view', [shown({ hook: 'order-sign' })], NOW, LOCKOUT).show).toBe(true);
  });

  it('shows an unanswered critical card again everywhere', () => {
    const past = [shown({ indicator: 'critical', hook: 'patient-view' })];
    expect(judgeRepeat(card('critical'), 'patient-view', past, NOW, LOCKOUT).show).toBe(true);
  });

  it('starts afresh after an acceptance: the order came back', () => {
    const accepted = shown({ indicator: 'info', shownAt: NOW - 2 * HOUR, answers: [{ outcome: 'accepted', at: NOW - HOUR }] });
    expect(judgeRepeat(card('info'), 'order-sign', [accepted], NOW, LOCKOUT).show).toBe(true);
    const shownSince = shown({ cardUuid: 'later', indicator: 'info', shownAt: NOW - HOUR / 2 });
    expect(judgeRepeat(card('info'), 'order-sign', [accepted, shownSince], NOW, LOCKOUT)).toEqual({ show: false, reason: 'info-already-shown' });
  });

  it('reads earlier showings only for an info card and a warning on patient-view', () => {
    const past = [shown({ indicator: 'info', hook: 'patient-view' })];
    const rows: Array<[DecidedCard['indicator'], string, boolean]> = [];
    for (const indicator of ['info', 'warning', 'critical'] as const) {
      for (const hook of ['patient-view', 'order-select', 'order-sign', 'appointment-book']) {
        rows.push([indicator, hook, readsShowings(indicator, hook)]);
        // Where it says no, an unanswered earlier showing (other than the same call's) never holds the card back.
        if (!readsShowings(indicator, hook)) expect(judgeRepeat(card(indicator), hook, past, NOW, LOCKOUT)).toEqual({ show: true, repeat: false });
      }
    }
    expect(rows.filter(([, , reads]) => reads).map(([indicator, hook]) => `${indicator} ${hook}`)).toEqual([
      'info patient-view',
      'info order-select',
      'info order-sign',
      'info appointment-book',
      'warning patient-view',
    ]);
  });

  it('judges every card readsShowings says no to the same from the same call\'s showing and the answered ones alone', () => {
    // A seeded generator of pasts: showings on several hooks, indicators, times and answers.
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const hooks = ['patient-view', 'order-select', 'order-sign', 'appointment-book'];
    const indicators = ['info', 'warning', 'critical'] as const;
    let compared = 0;
    for (let round = 0; round < 2000; round += 1) {
      const past: PastShowing[] = Array.from({ length: 1 + next(5) }, (_, index) => {
        const answers = Array.from({ length: next(3) }, () => ({ outcome: next(2) === 0 ? ('accepted' as const) : ('overridden' as const), at: NOW - next(60) * HOUR }));
        return shown({ cardUuid: `u-${index}`, hook: hooks[next(4)] ?? 'order-sign', indicator: indicators[next(3)] ?? 'warning', shownAt: NOW - next(60) * HOUR, answers });
      });
      const decided = card(indicators[next(3)] ?? 'warning', 'a-card', next(4) === 0 ? 'u-0' : 'new-uuid');
      const hook = hooks[next(4)] ?? 'order-sign';
      if (readsShowings(decided.indicator, hook)) continue;
      const kept = past.filter((p) => p.cardUuid === decided.uuid || p.answers.length > 0);
      expect(judgeRepeat(decided, hook, kept, NOW, LOCKOUT)).toEqual(judgeRepeat(decided, hook, past, NOW, LOCKOUT));
      compared += 1;
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('never holds back a card about another order, another card id, or an order without an id', () => {
    const past = [shown({ indicator: 'info', answers: [{ outcome: 'overridden', at: NOW - HOUR }] })];
    expect(judgeRepeat({ ...card('info'), orderHash: 'c'.repeat(64) }, 'order-sign', past, NOW, LOCKOUT).show).toBe(true);
    expect(judgeRepeat(card('info', 'other-card'), 'order-sign', past, NOW, LOCKOUT).show).toBe(true);
    expect(judgeRepeat({ ...card('info'), orderHash: undefined }, 'order-sign', past, NOW, LOCKOUT).show).toBe(true);
  });
});

const SECRET = 'unit-secret';
const CALL = { serviceId: 'spine-safety-order-sign', hook: 'order-sign', hookInstance: 'hi-1', patientId: 'p1' } as const;
const ORDER_REF = 'ServiceRequest/sr-1';

function returnedCard(uuid: string, indicator: CdsCard['indicator'], cardId = 'a-card'): CdsCard {
  return { uuid, summary: 's', detail: 'd', indicator, source: { label: 'l', topic: { system: 'urn:t', code: cardId } }, links: [] };
}

/** One warning about ServiceRequest/sr-1 and one info card about an order sent without an id. */
function evaluation(): Evaluation {
  return {
    cards: [returnedCard('uuid-warn', 'warning'), returnedCard('uuid-info', 'info', 'other-card')],
    decisions: [
      { cardId: 'a-card', indicator: 'warning', uuid: 'uuid-warn', orderRef: ORDER_REF },
      { cardId: 'other-card', indicator: 'info', uuid: 'uuid-info', orderRef: undefined },
    ],
  };
}

/** The warning's decision, overridden half an hour ago. */
function overriddenPast(): PastShowing[] {
  return [shown({ cardUuid: 'earlier', orderHash: patientHash(SECRET, ORDER_REF), answers: [{ outcome: 'overridden', at: NOW - HOUR / 2 }] })];
}

function recordingStep(history: DecisionHistory, budgetMs = 50) {
  const issued: IssuedCard[] = [];
  const suppressed: SuppressedCard[] = [];
  const misses: string[] = [];
  const recorder: CardRecorder = {
    recordIssued: async (cards) => void issued.push(...cards),
    recordSuppressed: async (cards) => void suppressed.push(...cards),
  };
  const metrics: Metrics = {
    observeRequest: () => undefined,
    countCard: () => undefined,
    countPrefetch: () => undefined,
    countPrefetchParse: () => undefined,
    observeFhirCall: () => undefined,
    countUnrecordedCards: () => undefined,
    countFeedback: () => undefined,
    countSuppressed: () => undefined,
    countHistoryMiss: ({ outcome }) => void misses.push(outcome),
  };
  const step = createSayItOnce({ history, recorder, metrics, secret: SECRET, lockoutHours: 24, budgetMs, knowledgeVersion: 'kv-1', clock: () => new Date(NOW) });
  return { step, issued, suppressed, misses };
}

const cardUuids = (cards: readonly CdsCard[]): string[] => cards.map((card) => card.uuid);

describe('createSayItOnce', () => {
  it('holds back by the answer of a history that answers on the calling thread, and records both cards', async () => {
    const { step, issued, suppressed, misses } = recordingStep({ pastDecisions: () => overriddenPast() }, 0);
    const result = await step.apply(CALL, evaluation());
    expect(cardUuids(result.cards)).toEqual(['uuid-info']);
    expect(result.shown.map((decision) => decision.uuid)).toEqual(['uuid-info']);
    expect(misses).toEqual([]);
    const common = { knowledgeVersion: 'kv-1', serviceId: CALL.serviceId, hook: CALL.hook, hookInstance: CALL.hookInstance, patientHash: patientHash(SECRET, 'p1') };
    expect(issued).toEqual([{ ...common, cardUuid: 'uuid-info', cardId: 'other-card', indicator: 'info', issuedAt: new Date(NOW).toISOString() }]);
    expect(issued[0]).not.toHaveProperty('orderHash');
    expect(suppressed).toEqual([
      { ...common, cardUuid: 'uuid-warn', cardId: 'a-card', indicator: 'warning', reason: 'overridden', suppressedAt: new Date(NOW).toISOString(), orderHash: patientHash(SECRET, ORDER_REF) },
    ]);
  });

  it('holds back by the answer of a history that answers later, within the budget', async () => {
    const { step, misses } = recordingStep({ pastDecisions: async () => overriddenPast() });
    expect(cardUuids((await step.apply(CALL, evaluation())).cards)).toEqual(['uuid-info']);
    expect(misses).toEqual([]);
  });

  it('shows every card and counts a timeout when the history answers after the budget', async () => {
    const late = () => new Promise<PastShowing[]>((resolve) => setTimeout(() => resolve(overriddenPast()), 50));
    const { step, issued, misses } = recordingStep({ pastDecisions: late }, 5);
    expect(cardUuids((await step.apply(CALL, evaluation())).cards)).toEqual(['uuid-warn', 'uuid-info']);
    expect(misses).toEqual(['timeout']);
    expect(issued.map((card) => card.cardUuid)).toEqual(['uuid-warn', 'uuid-info']);
  });

  it('shows every card and counts an error when the history throws at once (a store not open yet) or rejects', async () => {
    for (const pastDecisions of [
      (): never => {
        throw new Error('analytics store is not open yet');
      },
      () => Promise.reject(new Error('database down')),
    ]) {
      const { step, misses } = recordingStep({ pastDecisions });
      expect(cardUuids((await step.apply(CALL, evaluation())).cards)).toEqual(['uuid-warn', 'uuid-info']);
      expect(misses).toEqual(['error']);
    }
  });

  it('asks the history only about decisions whose order has an id, with the keyed hashes and a two-lockout lookback', async () => {
    const asked: unknown[] = [];
    const { step } = recordingStep({
      pastDecisions: (...args) => {
        asked.push(args);
        return [];
      },
    });
    await step.apply(CALL, evaluation());
    expect(asked).toEqual([
      [
        patientHash(SECRET, 'p1'),
        [{ orderHash: patientHash(SECRET, ORDER_REF), cardId: 'a-card', cardUuid: 'uuid-warn', showings: false }],
        { since: new Date(NOW - 24 * HOUR), lookbackFrom: new Date(NOW - 48 * HOUR), now: new Date(NOW) },
      ],
    ]);
  });
});

describe('callIds', () => {
  const call = { hookInstance: 'hi-1', context: { patientId: 'p1', draftOrders: { a: 1 } }, prefetch: { conditions: [] } };
  const take = (ids: () => string, n: number): string[] => Array.from({ length: n }, ids);

  it('gives the same call the same ids, in the same order, and never the same id twice', () => {
    const first = take(callIds('secret', call), 4);
    expect(take(callIds('secret', { ...call }), 4)).toEqual(first);
    expect(new Set(first).size).toBe(4);
    for (const id of first) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('derives the ids it always has for a call, so a retry after a restart or an upgrade gets them again', () => {
    expect(take(callIds('secret', call), 11)).toEqual([
      '68134a77-302a-4fad-9fc6-f27c3f6b2a6d',
      '148ae58b-5938-4f11-86d9-1ff901dfad92',
      'c6741533-d5df-4c40-8798-7e1796cdd58c',
      '095efdd4-b6fa-4ff6-b341-f853448f29e4',
      'f57add7b-c2ba-4722-86be-b62a32e72174',
      '89dc1b57-39db-4562-805e-9a5a53c77040',
      '0a8471f2-0129-4104-8681-bfb0f2b5a109',
      'ab3b4939-74d2-4afe-bbde-9922e4c2fd84',
      'cf1b38fb-e022-4f57-bfbf-7add93f36717',
      '24c58afe-0991-4a4c-9623-7782fef99d22',
      '958b4b10-0160-49fa-8f4c-450325385801',
    ]);
    const raw = new TextEncoder().encode(JSON.stringify({ hook: 'order-sign', hookInstance: call.hookInstance, context: call.context, prefetch: call.prefetch }));
    expect(take(callIds('secret', { ...call, raw }), 2)).toEqual(['d3fc8fe7-0253-4b65-be33-98c17dbc693d', '2f154a20-54cd-4107-ae42-0c97cea49e26']);
  });

  it('gives new ids when the context, the prefetch, the hookInstance or the secret differ', () => {
    const first = callIds('secret', call)();
    expect(callIds('secret', { ...call, context: { patientId: 'p2' } })()).not.toBe(first);
    expect(callIds('secret', { ...call, prefetch: undefined })()).not.toBe(first);
    expect(callIds('secret', { ...call, hookInstance: 'hi-2' })()).not.toBe(first);
    expect(callIds('other', call)()).not.toBe(first);
  });
});
