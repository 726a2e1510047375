import type { CdsCard } from '../cards/types.js';
import type { Metrics } from '../ops/types.js';
import { patientHash } from '../security/patient-hash.js';
import type {
  CardRecorder,
  DecisionHistory,
  DecisionKey,
  IssuedCard,
  PastShowing,
  PastShowingsAnswer,
  SuppressedCard,
  SuppressionReason,
} from '../store/types.js';
import type { EvaluatedDecision, Evaluation } from './evaluate-hook.js';

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

/** Shown, and not a repeat of the same call: also the verdict when the history missed. */
const SHOWN: RepeatVerdict = Object.freeze({ show: true, repeat: false });

/**
 * Whether the repeat rules read a decision's earlier showings beyond the same call's and the
 * answered ones: only an info card (held back once shown on any hook) and a warning on
 * patient-view (held back once shown there) do. The history lookup leaves them out otherwise.
 */
export function readsShowings(indicator: CdsCard['indicator'], hook: string): boolean {
  return indicator === 'info' || (indicator === 'warning' && hook === 'patient-view');
}

/**
 * clinical-policy.md §6, for one card: shown again when it is the same call again (its uuid was
 * already shown), held back when the same decision was overridden within the lockout (unless the
 * indicator rose since), when an info card was already shown on any hook, or when a warning was
 * already shown on patient-view and this is patient-view. An acceptance starts afresh: only
 * showings after it count. Anything else is shown. Pure: the caller passes the past and the time;
 * for a card {@link readsShowings} says no to, the past need hold only the same call's showing and
 * the answered ones.
 */
export function judgeRepeat(card: DecidedCard, hook: string, past: readonly PastShowing[], nowMs: number, lockoutMs: number): RepeatVerdict {
  if (card.orderHash === undefined) return SHOWN;
  const since = nowMs - lockoutMs;
  const same = past.filter((p) => p.orderHash === card.orderHash && p.cardId === card.cardId);
  if (same.some((p) => p.cardUuid === card.uuid)) return { show: true, repeat: true };

  let latest: { outcome: 'accepted' | 'overridden'; at: number; indicator: CdsCard['indicator'] } | undefined;
  for (const showing of same) {
    for (const answer of showing.answers) {
      if (answer.at < since || answer.at > nowMs) continue;
      if (!latest || answer.at > latest.at) latest = { outcome: answer.outcome, at: answer.at, indicator: showing.indicator };
    }
  }
  if (latest?.outcome === 'overridden' && RANK[card.indicator] <= RANK[latest.indicator]) return { show: false, reason: 'overridden' };
  if (!readsShowings(card.indicator, hook)) return SHOWN;

  const freshFrom = latest?.outcome === 'accepted' ? latest.at : since;
  const shown = same.filter((p) => p.shownAt >= freshFrom && p.shownAt >= since && p.shownAt <= nowMs);
  if (card.indicator === 'info' && shown.length > 0) return { show: false, reason: 'info-already-shown' };
  if (card.indicator === 'warning' && hook === 'patient-view' && shown.some((p) => p.hook === 'patient-view')) {
    return { show: false, reason: 'patient-view-already-shown' };
  }
  return SHOWN;
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

/** What there is to look at when nothing is looked up (no store, suppression off, no order ids). */
const NO_PAST: readonly PastShowing[] = [];

/** Whether the store is still working on the answer (it did not answer on this thread). */
function isPending(answer: PastShowingsAnswer): answer is Promise<readonly PastShowing[]> {
  return !Array.isArray(answer);
}

/**
 * Finds a decision's card by uuid as a Map of the cards would (the last one when uuids repeat,
 * as they do when a test pins the ids), without building the Map for the usual single card.
 */
function cardLookup(cards: readonly CdsCard[]): (uuid: string) => CdsCard | undefined {
  const only = cards.length === 1 ? cards[0] : undefined;
  if (only) return (uuid) => (only.uuid === uuid ? only : undefined);
  const byUuid = new Map(cards.map((card) => [card.uuid, card]));
  return (uuid) => byUuid.get(uuid);
}

/**
 * The fields every record about one decision of the call carries, shown or held back. Records
 * add theirs with `Object.assign`: on Node 20 a spread followed by more properties takes a slow
 * path costing microseconds.
 */
function recordFields(call: CallFacts, decision: EvaluatedDecision, patientKey: string, knowledgeVersion: string) {
  return {
    cardUuid: decision.uuid,
    cardId: decision.cardId,
    knowledgeVersion,
    serviceId: call.serviceId,
    hook: call.hook,
    hookInstance: call.hookInstance,
    indicator: decision.indicator,
    patientHash: patientKey,
  };
}

/**
 * Builds the step: one history lookup per call that has cards (none otherwise), bounded by the
 * budget; on a timeout or a failure every card is shown and the miss counted, so a card is never
 * held back on a guess.
 */
export function createSayItOnce(deps: SayItOnceDeps): SayItOnce {
  const lockoutMs = deps.lockoutHours * HOUR_MS;

  function missed(outcome: 'timeout' | 'error'): undefined {
    deps.metrics?.countHistoryMiss({ outcome });
    return undefined;
  }

  /** Waits for a pending answer for at most the budget. */
  async function withinBudget(lookup: Promise<readonly PastShowing[]>): Promise<readonly PastShowing[] | undefined> {
    lookup.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), deps.budgetMs);
    });
    try {
      const result = await Promise.race([lookup, timeout]);
      return result === TIMED_OUT ? missed('timeout') : result;
    } catch {
      return missed('error');
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The past showings of the call's decisions, or undefined when the history missed (counted).
   * An answer given on this thread (SQLite) has taken what it took and cannot be cut short, so
   * only a pending one is raced against the budget: no timer for the local store.
   */
  function pastFor(patientKey: string, keys: readonly DecisionKey[], now: Date): readonly PastShowing[] | undefined | Promise<readonly PastShowing[] | undefined> {
    if (!deps.history || lockoutMs === 0 || keys.length === 0) return NO_PAST;
    const nowMs = now.getTime();
    // Look back two lockouts: a card shown before the window may have been answered inside it.
    const window = { since: new Date(nowMs - lockoutMs), lookbackFrom: new Date(nowMs - 2 * lockoutMs), now };
    let answer: PastShowingsAnswer;
    try {
      answer = deps.history.pastDecisions(patientKey, keys, window);
    } catch {
      return missed('error');
    }
    return isPending(answer) ? withinBudget(answer) : answer;
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
        if (orderHash !== undefined) keys.push({ orderHash, cardId: decision.cardId, cardUuid: decision.uuid, showings: readsShowings(decision.indicator, call.hook) });
      });
      const answer = pastFor(patientKey, keys, now);
      // An answer at hand is used as it is: awaiting it would cost a turn of the microtask queue.
      const past = answer instanceof Promise ? await answer : answer;
      const cards: CdsCard[] = [];
      const shown: EvaluatedDecision[] = [];
      const issued: IssuedCard[] = [];
      const suppressed: SuppressedCard[] = [];
      const at = now.toISOString();
      const cardFor = cardLookup(evaluation.cards);
      evaluation.decisions.forEach((decision, index) => {
        const card = cardFor(decision.uuid);
        if (!card) return;
        const orderHash = orderHashes[index];
        const decided: DecidedCard = { cardId: decision.cardId, indicator: decision.indicator, uuid: decision.uuid, orderHash };
        const verdict = past === undefined ? SHOWN : judgeRepeat(decided, call.hook, past, nowMs, lockoutMs);
        const fields = recordFields(call, decision, patientKey, deps.knowledgeVersion);
        if (verdict.show) {
          cards.push(card);
          shown.push(decision);
          if (!verdict.repeat) deps.metrics?.countCard({ cardId: decision.cardId, indicator: decision.indicator });
          issued.push(Object.assign(fields, orderHash !== undefined ? { issuedAt: at, orderHash } : { issuedAt: at }));
        } else if (orderHash !== undefined) {
          deps.metrics?.countSuppressed({ cardId: decision.cardId, reason: verdict.reason });
          suppressed.push(Object.assign(fields, { reason: verdict.reason, suppressedAt: at, orderHash }));
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
