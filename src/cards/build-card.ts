import type { Knowledge } from '../knowledge/load-knowledge.js';
import type { CardTemplateFile, HookDefinitionFile } from '../knowledge/schemas.js';
import { cleanConcept, isObject, objects, pruneEmpty, str, type Coding, type JsonObject } from '../fhir/json.js';
import type { Decision, NamedCondition } from '../rules/decide.js';
import type { OrderEntry } from '../rules/order.js';
import type { ConditionEntry, ProcedureEntry } from '../rules/record.js';
import { ICD10CM } from '../terminology/code-index.js';
import { countWords, firstWords, fitSummary, inSentence, SUMMARY_MAX, type NameChoices } from './summary.js';
import { escapeMarkdown } from './text.js';
import type { CdsAction, CdsCard, CdsSuggestion } from './types.js';

/** What a card needs from the world outside the rules; ids are injected so tests can pin them. */
export interface CardEnvironment {
  readonly knowledge: Knowledge;
  readonly publicBaseUrl: string;
  readonly newId: () => string;
}

export interface CardContext {
  readonly patientId: string;
  readonly encounterId: string | undefined;
  readonly userId: string | undefined;
}

/** clinical policy §5: a detail a clinician reads inline. */
export const DETAIL_MAX_WORDS = 120;
const ENTRY_MAX_WORDS = 12;
/** Names cut this short when the detail would not fit otherwise. */
const SHORT_ENTRY_WORDS = 5;

const SYSTEM_NAMES: Record<string, string> = {
  [ICD10CM]: 'ICD-10-CM',
  'http://snomed.info/sct': 'SNOMED CT',
  'http://www.ama-assn.org/go/cpt': 'CPT',
  'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets': 'HCPCS',
  'http://loinc.org': 'LOINC',
  'http://terminology.hl7.org/CodeSystem/service-type': 'HL7 service type',
};

type Wording = Required<Pick<CardTemplateFile, 'summary' | 'todo' | 'suggestions'>>;

/** The row's base wording with the decision's variants laid over it, in order. */
function wordingFor(template: CardTemplateFile, decision: Decision): Wording {
  let wording: Wording = { summary: template.summary, todo: template.todo, suggestions: template.suggestions };
  for (const key of decision.variants) {
    const variant = template.variants[key];
    wording = { summary: variant?.summary ?? wording.summary, todo: variant?.todo ?? wording.todo, suggestions: variant?.suggestions ?? wording.suggestions };
  }
  return wording;
}

/** The names worth trying, once each: a record text longer than any summary is left to the short names. */
function unique(names: readonly string[]): NameChoices {
  const seen = [...new Set(names.filter((n) => n.trim() !== '' && n.length <= SUMMARY_MAX))];
  const [first, ...rest] = seen;
  return first === undefined ? ['the record entry'] : [first, ...rest];
}

/** The knowledge's display for the first recognised coding of an entry the record sent without a name. */
function knowledgeDisplay(codings: readonly Coding[], knowledge: Knowledge): string | undefined {
  for (const coding of codings) {
    const display = coding.system && coding.code ? knowledge.names.display(coding.system, coding.code) : undefined;
    if (display) return display;
  }
  return undefined;
}

function knowledgeShort(codings: readonly Coding[], knowledge: Knowledge): string | undefined {
  for (const coding of codings) {
    const short = coding.system && coding.code ? knowledge.names.short(coding.system, coding.code) : undefined;
    if (short) return short;
  }
  return undefined;
}

/** The record's name, else the knowledge's display, else the class's short name. */
function recordName(label: string | undefined, codings: readonly Coding[], knowledge: Knowledge): string | undefined {
  return label ?? knowledgeDisplay(codings, knowledge);
}

function orderChoices(order: OrderEntry, knowledge: Knowledge): NameChoices {
  const acronyms = new Set(knowledge.catalogue.acronyms);
  const name = recordName(order.label, order.codings, knowledge);
  const cls = [...order.classes][0];
  const short = (cls && knowledge.names.classShort(cls)) ?? knowledgeShort(order.codings, knowledge);
  return unique([name ? inSentence(name, acronyms) : '', short ?? '']);
}

function withStatus(name: string, entry: ConditionEntry, namesStatus: boolean): string {
  if (!namesStatus) return name;
  if (entry.status === 'suspected') return `suspected ${name}`;
  if (entry.status === 'historical') return `history of ${name}`;
  return name;
}

function conditionChoices(named: NamedCondition, namesStatus: boolean, knowledge: Knowledge): NameChoices {
  const acronyms = new Set(knowledge.catalogue.acronyms);
  const { entry } = named;
  const name = recordName(entry.label, entry.codings, knowledge);
  const short = knowledge.names.classShort(named.as) ?? '';
  const names = [name ? inSentence(name, acronyms) : '', knowledgeShort(entry.codings, knowledge) ?? '', short];
  // Last resort when even the short names do not fit: the class's short name without its status.
  return unique([...names.map((n) => (n ? withStatus(n, entry, namesStatus) : n)), short]);
}

/** "(ICD-10-CM M48.02)": the system by its name, also when the record sent it by OID. */
function codeText(codings: readonly Coding[], knowledge: Knowledge): string {
  const first = codings[0];
  if (!first?.system || !first.code) return '';
  const uri = knowledge.names.systemUri(first.system);
  return ` (${escapeMarkdown(SYSTEM_NAMES[uri] ?? first.system)} ${escapeMarkdown(first.code)})`;
}

/** How much of the record the detail lists: codes or not, and how many words of each name. */
interface EntryStyle {
  readonly codes: boolean;
  readonly nameWords: number;
}
const FULL: EntryStyle = { codes: true, nameWords: ENTRY_MAX_WORDS };

/** A record text as the detail lists it: a long one keeps its first words, so the detail stays short. */
function entryName(label: string | undefined, codings: readonly Coding[], knowledge: Knowledge, fallback: string, words: number): string {
  return escapeMarkdown(firstWords(recordName(label, codings, knowledge) ?? fallback, words));
}

function conditionLine(entry: ConditionEntry, knowledge: Knowledge, style: EntryStyle): string {
  const parts = [entry.status === 'historical' ? 'history' : entry.status];
  if (entry.onset) parts.push(`since ${entry.onset.written.slice(0, 10)}`);
  if (entry.abatedOn) parts.push(`abated ${entry.abatedOn.slice(0, 10)}`);
  const how = !style.codes ? '' : entry.matchedBy === 'text' ? ' (read from its text)' : codeText(entry.codings, knowledge);
  return `- ${entryName(entry.label, entry.codings, knowledge, 'Condition', style.nameWords)}: ${parts.join(', ')}${how}`;
}

function procedureLine(entry: ProcedureEntry, knowledge: Knowledge, style: EntryStyle): string {
  const when = entry.performed ? `performed ${entry.performed.written.slice(0, 10)}` : 'date not recorded';
  const how = !style.codes ? '' : entry.matchedBy === 'text' ? ' (read from its text)' : codeText(entry.codings, knowledge);
  return `- ${entryName(entry.label, entry.codings, knowledge, 'Procedure', style.nameWords)}: ${when}${how}`;
}

const SITE_WORDS = { cervical: 'neck', unspecified: 'site not given', remote: 'away from the neck' } as const;

function orderLine(order: OrderEntry, noun: string, knowledge: Knowledge, style: EntryStyle): string {
  const site = order.siteLabel ? escapeMarkdown(firstWords(order.siteLabel, style.nameWords)) : SITE_WORDS[order.site];
  const authored = order.authoredOn ? `, ordered ${order.authoredOn.written.slice(0, 10)}` : '';
  return `- ${entryName(order.label, order.codings, knowledge, 'Manual therapy', style.nameWords)} (${noun}${authored}): ${site}`;
}

/** Fills the wording slots every text of a card may use. */
type Fill = (text: string) => string;

/**
 * clinical policy §5 detail: what to do, the red flags, the matched record entries, then how a
 * vague record was read; at most 120 words. When it would not fit, the record gives way first
 * (codes, then entries from the end, then long names cut to their first words, then the count of
 * entries left out), and last the safer readings from the end: what to do and the red flags always stay,
 * with the order and its first named condition.
 */
function buildDetail(template: CardTemplateFile, wording: Wording, decision: Decision, order: OrderEntry, noun: string, fill: Fill, knowledge: Knowledge): string {
  const head = ['**Do now:**', ...wording.todo.map((item) => `- ${fill(item)}`)];
  if (template.showRedFlags) head.push('', `**Check for:** ${knowledge.catalogue.redFlags.join('; ')}.`);
  const readings = decision.readings.map((key) => `- ${knowledge.catalogue.readings[key] ?? key}`);
  const entries = (style: EntryStyle) => [
    orderLine(order, noun, knowledge, style),
    ...decision.matched.map((c) => conditionLine(c, knowledge, style)),
    ...decision.procedures.map((p) => procedureLine(p, knowledge, style)),
  ];
  const compose = (shown: readonly string[], hidden: number, shownReadings: number) => {
    const more = hidden > 0 ? [`- ${hidden} more on the record`] : [];
    const kept = readings.slice(0, shownReadings);
    const tail = kept.length > 0 ? ['', '**How this was read:**', ...kept] : [];
    return [...head, '', '**Record:**', ...shown, ...more, ...tail].join('\n');
  };
  const fits = (detail: string) => countWords(detail) <= DETAIL_MAX_WORDS;
  const full = entries(FULL);
  let detail = compose(full, 0, readings.length);
  if (fits(detail)) return detail;
  // The order and the named conditions stay longest.
  const keep = 1 + Math.max(1, decision.named.length);
  for (const style of [{ codes: false, nameWords: ENTRY_MAX_WORDS }, { codes: false, nameWords: SHORT_ENTRY_WORDS }]) {
    const all = entries(style);
    for (let shown = all.length; shown >= Math.min(keep, all.length); shown -= 1) {
      detail = compose(all.slice(0, shown), all.length - shown, readings.length);
      if (fits(detail)) return detail;
    }
  }
  // Still too long: a safer reading outranks a second named condition, which the summary names anyway.
  const least = entries({ codes: false, nameWords: SHORT_ENTRY_WORDS });
  for (let shownReadings = readings.length; shownReadings >= 0; shownReadings -= 1) {
    for (const shown of new Set([keep, 2])) {
      detail = compose(least.slice(0, shown), least.length - shown, shownReadings);
      if (fits(detail)) return detail;
      detail = compose(least.slice(0, shown), 0, shownReadings);
      if (fits(detail)) return detail;
    }
  }
  return detail;
}

/** A Reference from the client, kept only with its plain string parts (a created resource must stay valid FHIR). */
function cleanReference(value: unknown): JsonObject | undefined {
  if (!isObject(value)) return undefined;
  const reference = str(value['reference']);
  const display = str(value['display']);
  if (!reference && !display) return undefined;
  return { ...(reference ? { reference } : {}), ...(display ? { display } : {}) };
}

/**
 * A new ServiceRequest for a suggestion (clinical policy §5): draft, order, the patient as
 * subject, the draft order's requester and encounter, and the matched Conditions as its reason.
 */
function newServiceRequest(templateKey: string, order: OrderEntry, decision: Decision, context: CardContext, knowledge: Knowledge): Record<string, unknown> {
  const template = knowledge.catalogue.orders[templateKey];
  if (!template) throw new Error(`unknown order template ${templateKey}`);
  const source: JsonObject = order.resource;
  const resource: Record<string, unknown> = {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'order',
    ...(template.category ? { category: [{ coding: template.category.map((c) => ({ ...c })) }] } : {}),
    priority: template.priority,
    code: { coding: template.codings.map((c) => ({ ...c })), text: template.label },
    subject: { reference: `Patient/${context.patientId}` },
  };
  const encounter = cleanReference(source['encounter']) ?? (context.encounterId ? { reference: `Encounter/${context.encounterId}` } : undefined);
  if (encounter) resource['encounter'] = encounter;
  const requester =
    cleanReference(source['requester']) ??
    (context.userId && /^(Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/.test(context.userId) ? { reference: context.userId } : undefined);
  if (requester) resource['requester'] = requester;
  resource['reasonCode'] = [{ text: template.reason }];
  const reasons = [...new Set(decision.matched.map((c) => c.id).filter((id): id is string => id !== undefined && /^[A-Za-z0-9\-.]{1,64}$/.test(id)))];
  if (reasons.length > 0) resource['reasonReference'] = reasons.map((id) => ({ reference: `Condition/${id}` }));
  if (template.copyBodySite) {
    const rawSites = source['bodySite'];
    const sites = (isObject(rawSites) ? [rawSites] : objects(rawSites)).map(cleanConcept).filter((c) => c !== undefined);
    if (sites.length > 0) resource['bodySite'] = sites;
  }
  return resource;
}

function removeAction(order: OrderEntry, hook: HookDefinitionFile, description: string): CdsAction | undefined {
  if (!order.id) return undefined;
  if (hook.removeOrderAs === 'delete') return { type: 'delete', description, resourceId: `${order.resourceType}/${order.id}` };
  const current = pruneEmpty(order.resource);
  return { type: 'update', description, resource: { ...(isObject(current) ? current : {}), status: 'revoked' } };
}

function buildSuggestions(wording: Wording, order: OrderEntry, decision: Decision, hook: HookDefinitionFile, context: CardContext, fill: Fill, env: CardEnvironment): CdsSuggestion[] {
  const suggestions: CdsSuggestion[] = [];
  for (const suggestion of wording.suggestions) {
    const actions = suggestion.actions.map((action): CdsAction | undefined =>
      action.type === 'create-order'
        ? { type: 'create', description: fill(action.description), resource: newServiceRequest(action.order, order, decision, context, env.knowledge) }
        : removeAction(order, hook, fill(action.description)),
    );
    // A suggestion that cannot remove an order sent without an id is not offered at all.
    if (actions.some((a) => a === undefined)) continue;
    suggestions.push({
      label: fill(suggestion.label),
      uuid: env.newId(),
      ...(suggestion.isRecommended ? { isRecommended: true } : {}),
      actions: actions.filter((a): a is CdsAction => a !== undefined),
    });
  }
  return suggestions;
}

/** Builds the card for one conflicting order from its row's template (clinical policy §5). Pure apart from the injected id source. */
export function buildCard(decision: Decision, order: OrderEntry, hook: HookDefinitionFile, context: CardContext, env: CardEnvironment): CdsCard {
  const { knowledge } = env;
  const template = knowledge.cardForRow.get(decision.row);
  if (!template) throw new Error(`no card template for row ${decision.row}`);
  const catalogue = knowledge.catalogue;
  const wording = wordingFor(template, decision);
  const noun = catalogue.nouns[order.resourceType] ?? 'order';
  const orderNames = orderChoices(order, knowledge);
  const verb = hook.removeOrderAs === 'revoke' ? 'Revoke' : 'Remove';
  const fill: Fill = (text) => text.replaceAll('{Remove}', verb).replaceAll('{order}', orderNames[0]).replaceAll('{noun}', noun);
  const conditions = decision.named.map((named) => conditionChoices(named, template.namesStatus, knowledge));
  const card: CdsCard = {
    uuid: env.newId(),
    summary: fitSummary(wording.summary, orderNames, conditions, catalogue.namesJoinedBy),
    detail: buildDetail(template, wording, decision, order, noun, fill, knowledge),
    indicator: template.indicator,
    source: { label: catalogue.source.label, topic: { system: catalogue.source.topicSystem, code: template.id, display: template.title } },
    links: [{ label: 'Why this alert: rationale and references', url: `${env.publicBaseUrl}/rationale/${template.id}`, type: 'absolute' }],
  };
  const suggestions = buildSuggestions(wording, order, decision, hook, context, fill, env);
  if (suggestions.length > 0 && template.selectionBehavior) {
    card.suggestions = suggestions;
    card.selectionBehavior = template.selectionBehavior;
  }
  if (hook.offerOverrideReasons && template.overrideReasons.length > 0) {
    card.overrideReasons = template.overrideReasons.map((code) => ({
      system: catalogue.overrideReasonSystem,
      code,
      display: catalogue.overrideReasons[code] ?? code,
    }));
  }
  return card;
}

const INDICATOR_RANK: Record<CdsCard['indicator'], number> = { critical: 0, warning: 1, info: 2 };

/** clinical policy §5: critical, then warning, then info; within one indicator, in the order of the orders (a stable sort keeps it). */
export function sortByIndicator<T extends { readonly card: CdsCard }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => INDICATOR_RANK[a.card.indicator] - INDICATOR_RANK[b.card.indicator]);
}
