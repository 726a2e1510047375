import type { Knowledge } from '../knowledge/load-knowledge.js';
import type { AnalyticsReport, CardReport, OverrideReasonCount } from './report.js';

/** What the analytics show beside a card id, read from the loaded card templates. */
export interface CardDescription {
  readonly title: string;
  readonly indicator: 'info' | 'warning' | 'critical';
  /** Codes of the override reasons the card offers. */
  readonly offeredReasons: ReadonlySet<string>;
}

/** The one place analytics read card templates (their shape belongs to the card builder). */
export function describeCards(knowledge: Pick<Knowledge, 'cards'>): ReadonlyMap<string, CardDescription> {
  const descriptions = new Map<string, CardDescription>();
  for (const [id, template] of knowledge.cards) {
    descriptions.set(id, { title: template.title, indicator: template.indicator, offeredReasons: new Set(template.overrideReasons) });
  }
  return descriptions;
}

/** How the rates are defined, shown on the page, in the terminal report and in the JSON. */
export const RATE_DEFINITIONS = {
  overrideRate: 'override rate = overridden ÷ answered (answered = accepted + overridden)',
  responseRate: 'response rate = answered ÷ issued (can pass 100% when answers in the range are about cards issued before it)',
  suppressed: 'suppressed = cards decided but held back because the same decision was already shown or answered (clinical-policy §6)',
} as const;

export interface DescribedReason extends OverrideReasonCount {
  /** False when the card never offered this reason (kept and counted, but flagged). */
  readonly offered: boolean;
}

export interface DescribedCardReport extends Omit<CardReport, 'overrideReasons' | 'topOverrideReasons'> {
  readonly title: string | undefined;
  readonly indicator: CardDescription['indicator'] | undefined;
  readonly overrideReasons: readonly DescribedReason[];
  readonly topOverrideReasons: readonly DescribedReason[];
  /** Overrides naming a reason the card did not offer. */
  readonly overridesWithReasonNotOffered: number;
}

export interface DescribedReport extends Omit<AnalyticsReport, 'cards'> {
  readonly definitions: typeof RATE_DEFINITIONS;
  readonly cards: readonly DescribedCardReport[];
}

/** The report with titles, indicators and offered-reason flags from the knowledge. */
export function describeReport(report: AnalyticsReport, descriptions: ReadonlyMap<string, CardDescription>): DescribedReport {
  return {
    ...report,
    definitions: RATE_DEFINITIONS,
    cards: report.cards.map((card) => {
      const description = descriptions.get(card.cardId);
      const flag = (reason: OverrideReasonCount): DescribedReason => ({ ...reason, offered: description?.offeredReasons.has(reason.code) ?? false });
      const overrideReasons = card.overrideReasons.map(flag);
      return {
        ...card,
        title: description?.title,
        indicator: description?.indicator,
        overrideReasons,
        topOverrideReasons: card.topOverrideReasons.map(flag),
        overridesWithReasonNotOffered: overrideReasons.filter((reason) => !reason.offered).reduce((sum, reason) => sum + reason.count, 0),
      };
    }),
  };
}
