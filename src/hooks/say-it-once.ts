import type { CdsCard } from '../cards/types.js';
import type { Metrics } from '../ops/types.js';
import { patientHash } from '../security/patient-hash.js';
import type { CardRecorder, DecisionHistory, DecisionKey, IssuedCard, PastShowing, SuppressedCard, SuppressionReason } from '../store/types.js';
import type { Evaluation } from './evaluate-hook.js';

/** A decided card as the repeat rules see it: no wording, only the decision. */
export interface DecidedCard {
  readonly cardId: string;
  readonly indicator: CdsCard['indicator'];
  readonly uuid: string;
  /** Keyed hash of the order's `Type/id`; absent when the order has no id (never held back then). */
  readonly orderHash: string | undefined;
}

/** What the repeat rules concluded for one card. */
export type RepeatVerdict = { readonly show: true; readonly repeat: boolean } | { readonly show: false; readonly reason: SuppressionReason };

const RANK: Readonly<Record<CdsCard['indicator'], number>> = { info: 0, warning: 1, critical: 2 };

/**
 * clinical-policy.md §6, for one card: shown again when it is the same call again (its uuid was
 * already shown), held back when the same decision was overridden within the lockout (unless the
 * indicator rose since), when an info card was already shown on any hook, or when a warning was
 * already shown on patient-view and this is patient-view. An acceptance starts afresh: only
 * showings after it count. Anything else is shown. Pure: the caller passes the past and the time.
 */
export function judgeRepeat(card: DecidedCard, hook: string, past: readonly PastShowing[], nowMs: number, lockoutMs: number): RepeatVerdict {
  if (card.orderHash === undefined) return { show: true, repeat: false };
  const since = nowMs - lockoutMs;
  const same = past.filter((p) => p.orderHash === card.orderHash && p.cardId === card.cardId);
  if (same.some((p) => p.cardUuid === card.uuid)) return { show: true, repeat: true };

  let latest: { outcome: 'accepted' | 'overridden'; at: number; indicator: CdsCard['indicator'] } | undefined;
  for (const showing of same) {
    for (const answer of showing.answers) {
      if (answer.at < since || answer.at > nowMs) continue;
      if (!latest || answer.at > latest.at) latest = { ...answer, indicator: showing.indicator };
    }
  }
  if (latest?.outcome === 'overridden' && RANK[card.indicator] <= RANK[latest.indicator]) return { show: false, reason: 'overridden' };

  const freshFrom = latest?.outcome === 'accepted' ? latest.at : since;
  const shown = same.filter((p) => p.shownAt >= freshFrom && p.shownAt >= since && p.shownAt <= nowMs);
  if (card.indicator === 'info' && shown.length > 0) return { show: false, reason: 'info-already-shown' };
  if (card.indicator === 'warning' && hook === 'patient-view' && shown.some((p) => p.hook === 'patient-view')) {
    return { show: false, reason: 'patient-view-already-shown' };
  }
  return { show: true, repeat: false };
}

/** The call a set of cards answers, as the step needs it. */
export interface CallFacts {
  readonly serviceId: string;
  readonly hook: string;
  readonly hookInstance: string;
  readonly patientId: string;
}

export interface SayItOnceDeps {
  readonly history: DecisionHistory | undefined;
  readonly recorder: CardRecorder | undefined;
  readonly metrics: Metrics | undefined;
  /** The patient-hash secret: patient and order keys are HMACs with it. */
  readonly secret: string;
  /** SUPPRESSION_LOCKOUT_HOURS; 0 turns holding back off (cards are still recorded). */
  readonly lockoutHours: number;
  /** How long the history lookup may take before the cards are shown unchecked. */
  readonly budgetMs: number;
  readonly knowledgeVersion: string;
  readonly clock: () => Date;
}

/** The step after the decisions and before the response (clinical-policy.md §6). */
export interface SayItOnce {
  /** The cards to return; records what is shown and what is held back, without waiting on the store. */
  apply(call: CallFacts, evaluation: Evaluation): Promise<{ readonly cards: CdsCard[]; readonly shown: Evaluation['decisions'] }>;
}

/** Default budget of the history lookup, in milliseconds (README, "Saying it once"). */
export const HISTORY_BUDGET_MS = 50;

const HOUR_MS = 3_600_000;

/** Answered when the lookup did not come back in time. */
const TIMED_OUT = Symbol('timed out');

/**
 * Builds the step: one history lookup per call that has cards (none otherwise), bounded by the
 * budget; on a timeout or a failure every card is shown and the miss counted, so a card is never
 * held back on a guess.
 */
export function createSayItOnce(deps: SayItOnceDeps): SayItOnce {
  const lockoutMs = deps.lockoutHours * HOUR_MS;

  async function pastFor(patientKey: string, keys: readonly DecisionKey[], now: Date): Promise<readonly PastShowing[] | undefined> {
    if (!deps.history || lockoutMs === 0 || keys.length === 0) return [];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), deps.budgetMs);
    });
    const nowMs = now.getTime();
    // Look back two lockouts: a card shown before the window may have been answered inside it.
    const window = { since: new Date(nowMs - lockoutMs), lookbackFrom: new Date(nowMs - 2 * lockoutMs), now };
    const lookup = deps.history.pastDecisions(patientKey, keys, window);
    lookup.catch(() => undefined);
    try {
      const result = await Promise.race([lookup, timeout]);
      if (result === TIMED_OUT) {
        deps.metrics?.countHistoryMiss({ outcome: 'timeout' });
        return undefined;
      }
      return result;
    } catch {
      deps.metrics?.countHistoryMiss({ outcome: 'error' });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async apply(call, evaluation) {
      if (evaluation.decisions.length === 0) return { cards: evaluation.cards, shown: [] };
      const now = deps.clock();
      const nowMs = now.getTime();
      const patientKey = patientHash(deps.secret, call.patientId);
      const orderHashes = evaluation.decisions.map((decision) => (decision.orderRef === undefined ? undefined : patientHash(deps.secret, decision.orderRef)));
      const keys: DecisionKey[] = [];
      evaluation.decisions.forEach((decision, index) => {
        const orderHash = orderHashes[index];
        if (orderHash !== undefined) keys.push({ orderHash, cardId: decision.cardId, cardUuid: decision.uuid });
      });
      const past = await pastFor(patientKey, keys, now);
      const cards: CdsCard[] = [];
      const shown: Array<Evaluation['decisions'][number]> = [];
      const issued: IssuedCard[] = [];
      const suppressed: SuppressedCard[] = [];
      const at = now.toISOString();
      const byUuid = new Map(evaluation.cards.map((card) => [card.uuid, card]));
      evaluation.decisions.forEach((decision, index) => {
        const card = byUuid.get(decision.uuid);
        if (!card) return;
        const orderHash = orderHashes[index];
        const verdict = past === undefined ? { show: true as const, repeat: false } : judgeRepeat({ ...decision, orderHash }, call.hook, past, nowMs, lockoutMs);
        const base = { cardId: decision.cardId, knowledgeVersion: deps.knowledgeVersion, serviceId: call.serviceId, hook: call.hook, hookInstance: call.hookInstance, indicator: decision.indicator, patientHash: patientKey };
        if (verdict.show) {
          cards.push(card);
          shown.push(decision);
          if (!verdict.repeat) deps.metrics?.countCard({ cardId: decision.cardId, indicator: decision.indicator });
          issued.push({ ...base, cardUuid: decision.uuid, issuedAt: at, ...(orderHash !== undefined ? { orderHash } : {}) });
        } else if (orderHash !== undefined) {
          deps.metrics?.countSuppressed({ cardId: decision.cardId, reason: verdict.reason });
          suppressed.push({ ...base, cardUuid: decision.uuid, reason: verdict.reason, suppressedAt: at, orderHash });
        }
      });
      if (deps.recorder) {
        // Never awaited: the card response does not wait on, or fail because of, storage.
        if (issued.length > 0) deps.recorder.recordIssued(issued).catch(() => undefined);
        if (suppressed.length > 0) deps.recorder.recordSuppressed(suppressed).catch(() => undefined);
      }
      return { cards, shown };
    },
  };
}
