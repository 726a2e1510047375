import type { Knowledge } from '../knowledge/load-knowledge.js';
import type { CardCatalogueFile, CardTemplateFile, HookDefinitionFile } from '../knowledge/schemas.js';
import { cleanConcept, isObject, objects, pruneEmpty, str, type Coding, type JsonObject } from '../fhir/json.js';
import type { Decision, NamedCondition } from '../rules/decide.js';
import type { OrderEntry } from '../rules/order.js';
import type { ConditionEntry, ProcedureEntry } from '../rules/record.js';
import { ICD10CM } from '../terminology/code-index.js';
import { counted, layDetail, type CountedLines, type EntryStyle } from './detail-layout.js';
import { countWords, firstWords, fitSummary, summaryName, SUMMARY_MAX, type NameChoices } from './summary.js';
import { escapeMarkdown, replaceSlot } from './text.js';
import type { CdsAction, CdsCard, CdsCoding, CdsLink, CdsSuggestion } from './types.js';

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

const SYSTEM_NAMES: Record<string, string> = {
  [ICD10CM]: 'ICD-10-CM',
  'http://snomed.info/sct': 'SNOMED CT',
  'http://www.ama-assn.org/go/cpt': 'CPT',
  'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets': 'HCPCS',
  'http://loinc.org': 'LOINC',
  'http://terminology.hl7.org/CodeSystem/service-type': 'HL7 service type',
};

type Wording = Readonly<Required<Pick<CardTemplateFile, 'summary' | 'todo' | 'suggestions'>>>;

/** The row's base wording with the given variants laid over it, in order. */
function layVariants(template: CardTemplateFile, variants: readonly string[]): Wording {
  let wording: Wording = { summary: template.summary, todo: template.todo, suggestions: template.suggestions };
  for (const key of variants) {
    const variant = template.variants[key];
    wording = { summary: variant?.summary ?? wording.summary, todo: variant?.todo ?? wording.todo, suggestions: variant?.suggestions ?? wording.suggestions };
  }
  return wording;
}

/** Wordings per template and list of variants: a row has only a few, and every card of it asks again. */
const WORDINGS = new WeakMap<CardTemplateFile, Map<string, Wording>>();

/** The row's base wording with the decision's variants laid over it, in order. */
function wordingFor(template: CardTemplateFile, decision: Decision): Wording {
  let byVariants = WORDINGS.get(template);
  if (!byVariants) {
    byVariants = new Map();
    WORDINGS.set(template, byVariants);
  }
  // Variant keys are the decision table's own names (ROW_VARIANTS), never a comma.
  const key = decision.variants.join(',');
  let wording = byVariants.get(key);
  if (!wording) {
    wording = Object.freeze(layVariants(template, decision.variants));
    byVariants.set(key, wording);
  }
  return wording;
}

/** What every card built from one catalogue shares. */
interface CatalogueParts {
  readonly acronyms: ReadonlySet<string>;
  /** The detail's red-flag line and its words. */
  readonly redFlags: { readonly line: string; readonly words: number };
}

/** Worked out on the first card of each catalogue: the knowledge is frozen once loaded. */
const CATALOGUE_PARTS = new WeakMap<CardCatalogueFile, CatalogueParts>();

function catalogueParts(catalogue: CardCatalogueFile): CatalogueParts {
  let parts = CATALOGUE_PARTS.get(catalogue);
  if (!parts) {
    const line = `**Check for:** ${catalogue.redFlags.join('; ')}.`;
    parts = { acronyms: new Set(catalogue.acronyms), redFlags: { line, words: countWords(line) } };
    CATALOGUE_PARTS.set(catalogue, parts);
  }
  return parts;
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
  const { acronyms } = catalogueParts(knowledge.catalogue);
  const name = recordName(order.label, order.codings, knowledge);
  const cls = [...order.classes][0];
  const short = (cls && knowledge.names.classShort(cls)) ?? knowledgeShort(order.codings, knowledge);
  return unique([name ? summaryName(name, acronyms) : '', short ?? '']);
}

function withStatus(name: string, entry: ConditionEntry, namesStatus: boolean): string {
  if (!namesStatus) return name;
  if (entry.status === 'suspected') return `suspected ${name}`;
  if (entry.status === 'historical') return `history of ${name}`;
  return name;
}

function conditionChoices(named: NamedCondition, namesStatus: boolean, knowledge: Knowledge): NameChoices {
  const { acronyms } = catalogueParts(knowledge.catalogue);
  const { entry } = named;
  const name = recordName(entry.label, entry.codings, knowledge);
  const short = knowledge.names.classShort(named.as) ?? '';
  const names = [name ? summaryName(name, acronyms) : '', knowledgeShort(entry.codings, knowledge) ?? '', short];
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
 * The card's filler. It remembers its last text: a card words its remove suggestion's label
 * and its actions alike, one after the other.
 */
function fillerOf(verb: string, order: string, noun: string): Fill {
  let lastText: string | undefined;
  let lastFilled = '';
  return (text) => {
    if (text !== lastText) {
      lastText = text;
      lastFilled = replaceSlot(replaceSlot(replaceSlot(text, '{Remove}', verb), '{order}', order), '{noun}', noun);
    }
    return lastFilled;
  };
}

/** What to do, then the red flags when the template shows them. */
function detailHead(template: CardTemplateFile, wording: Wording, fill: Fill, shared: CatalogueParts): CountedLines {
  const lines = ['**Do now:**', ...wording.todo.map((item) => `- ${fill(item)}`)];
  const words = lines.map(countWords);
  if (template.showRedFlags) {
    lines.push('', shared.redFlags.line);
    words.push(0, shared.redFlags.words);
  }
  return { lines, words };
}

/**
 * clinical policy §5 detail: what to do, the red flags, the matched record entries, then how a
 * vague record was read; at most 120 words, laid out by {@link layDetail}.
 */
function buildDetail(template: CardTemplateFile, wording: Wording, decision: Decision, order: OrderEntry, noun: string, fill: Fill, knowledge: Knowledge): string {
  const byStyle = new Map<EntryStyle, CountedLines>();
  const entriesIn = (style: EntryStyle): CountedLines => {
    let entries = byStyle.get(style);
    if (!entries) {
      entries = counted([
        orderLine(order, noun, knowledge, style),
        ...decision.matched.map((c) => conditionLine(c, knowledge, style)),
        ...decision.procedures.map((p) => procedureLine(p, knowledge, style)),
      ]);
      byStyle.set(style, entries);
    }
    return entries;
  };
  return layDetail({
    head: detailHead(template, wording, fill, catalogueParts(knowledge.catalogue)),
    entriesIn,
    keep: 1 + Math.max(1, decision.named.length),
    readings: counted(decision.readings.map((key) => `- ${knowledge.catalogue.readings[key] ?? key}`)),
  });
}

/** A Reference from the client, kept only with its plain string parts (a created resource must stay valid FHIR). */
function cleanReference(value: unknown): JsonObject | undefined {
  if (!isObject(value)) return undefined;
  const reference = str(value['reference']);
  const display = str(value['display']);
  if (!reference && !display) return undefined;
  const clean: JsonObject = {};
  if (reference) clean['reference'] = reference;
  if (display) clean['display'] = display;
  return clean;
}

type OrderTemplate = CardCatalogueFile['orders'][string];

/** The parts of a created ServiceRequest its order template alone decides. */
interface OrderTemplateParts {
  readonly category: readonly JsonObject[] | undefined;
  readonly code: JsonObject;
  readonly reasonCode: readonly JsonObject[];
}

/** Made on the first card that offers the order, then shared, frozen, by every card (copies: the knowledge stays as loaded). */
const ORDER_TEMPLATE_PARTS = new WeakMap<OrderTemplate, OrderTemplateParts>();

function orderTemplateParts(template: OrderTemplate): OrderTemplateParts {
  let parts = ORDER_TEMPLATE_PARTS.get(template);
  if (!parts) {
    const codings = (list: OrderTemplate['codings']) => Object.freeze(list.map((c) => Object.freeze({ ...c })));
    parts = {
      category: template.category ? Object.freeze([Object.freeze({ coding: codings(template.category) })]) : undefined,
      code: Object.freeze({ coding: codings(template.codings), text: template.label }),
      reasonCode: Object.freeze([Object.freeze({ text: template.reason })]),
    };
    ORDER_TEMPLATE_PARTS.set(template, parts);
  }
  return parts;
}

/**
 * A new ServiceRequest for a suggestion (clinical policy §5): draft, order, the patient as
 * subject, the draft order's requester and encounter, and the matched Conditions as its reason.
 */
function newServiceRequest(templateKey: string, order: OrderEntry, decision: Decision, context: CardContext, knowledge: Knowledge): Record<string, unknown> {
  const template = knowledge.catalogue.orders[templateKey];
  if (!template) throw new Error(`unknown order template ${templateKey}`);
  const fixed = orderTemplateParts(template);
  const source: JsonObject = order.resource;
  const resource: Record<string, unknown> = { resourceType: 'ServiceRequest', status: 'draft', intent: 'order' };
  if (fixed.category) resource['category'] = fixed.category;
  resource['priority'] = template.priority;
  resource['code'] = fixed.code;
  resource['subject'] = { reference: `Patient/${context.patientId}` };
  const encounter = cleanReference(source['encounter']) ?? (context.encounterId ? { reference: `Encounter/${context.encounterId}` } : undefined);
  if (encounter) resource['encounter'] = encounter;
  const requester =
    cleanReference(source['requester']) ??
    (context.userId && /^(Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/.test(context.userId) ? { reference: context.userId } : undefined);
  if (requester) resource['requester'] = requester;
  resource['reasonCode'] = fixed.reasonCode;
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
    const label = fill(suggestion.label);
    const uuid = env.newId();
    const offered = actions.filter((a): a is CdsAction => a !== undefined);
    suggestions.push(suggestion.isRecommended ? { label, uuid, isRecommended: true, actions: offered } : { label, uuid, actions: offered });
  }
  return suggestions;
}

/**
 * What every card of one template shares, frozen: a card is only serialised once built, and
 * sharing these spares rebuilding them on every call.
 */
interface TemplateParts {
  /** The catalogue they were worked out from (a test may pair a template with another). */
  readonly catalogue: CardCatalogueFile;
  readonly source: CdsCard['source'];
  readonly overrideReasons: readonly CdsCoding[];
  /** The rationale link, per public base URL. */
  readonly links: Map<string, readonly CdsLink[]>;
}

const TEMPLATE_PARTS = new WeakMap<CardTemplateFile, TemplateParts>();

function templateParts(template: CardTemplateFile, catalogue: CardCatalogueFile): TemplateParts {
  const known = TEMPLATE_PARTS.get(template);
  if (known?.catalogue === catalogue) return known;
  const parts: TemplateParts = {
    catalogue,
    source: Object.freeze({ label: catalogue.source.label, topic: Object.freeze({ system: catalogue.source.topicSystem, code: template.id, display: template.title }) }),
    overrideReasons: Object.freeze(
      template.overrideReasons.map((code) => Object.freeze({ system: catalogue.overrideReasonSystem, code, display: catalogue.overrideReasons[code] ?? code })),
    ),
    links: new Map(),
  };
  TEMPLATE_PARTS.set(template, parts);
  return parts;
}

function rationaleLinks(parts: TemplateParts, template: CardTemplateFile, publicBaseUrl: string): readonly CdsLink[] {
  let links = parts.links.get(publicBaseUrl);
  if (!links) {
    links = Object.freeze([Object.freeze({ label: 'Why this alert: rationale and references', url: `${publicBaseUrl}/rationale/${template.id}`, type: 'absolute' as const })]);
    parts.links.set(publicBaseUrl, links);
  }
  return links;
}

/** Builds the card for one conflicting order from its row's template (clinical policy §5). Pure apart from the injected id source. */
export function buildCard(decision: Decision, order: OrderEntry, hook: HookDefinitionFile, context: CardContext, env: CardEnvironment): CdsCard {
  const { knowledge } = env;
  const template = knowledge.cardForRow.get(decision.row);
  if (!template) throw new Error(`no card template for row ${decision.row}`);
  const catalogue = knowledge.catalogue;
  const shared = templateParts(template, catalogue);
  const wording = wordingFor(template, decision);
  const noun = catalogue.nouns[order.resourceType] ?? 'order';
  const orderNames = orderChoices(order, knowledge);
  const verb = hook.removeOrderAs === 'revoke' ? 'Revoke' : 'Remove';
  const fill = fillerOf(verb, orderNames[0], noun);
  const conditions = decision.named.map((named) => conditionChoices(named, template.namesStatus, knowledge));
  const card: CdsCard = {
    uuid: env.newId(),
    summary: fitSummary(wording.summary, orderNames, conditions, catalogue.namesJoinedBy),
    detail: buildDetail(template, wording, decision, order, noun, fill, knowledge),
    indicator: template.indicator,
    source: shared.source,
    links: rationaleLinks(shared, template, env.publicBaseUrl),
  };
  const suggestions = buildSuggestions(wording, order, decision, hook, context, fill, env);
  if (suggestions.length > 0 && template.selectionBehavior) {
    card.suggestions = suggestions;
    card.selectionBehavior = template.selectionBehavior;
  }
  if (hook.offerOverrideReasons && shared.overrideReasons.length > 0) card.overrideReasons = shared.overrideReasons;
  return card;
}

const INDICATOR_RANK: Record<CdsCard['indicator'], number> = { critical: 0, warning: 1, info: 2 };

/** clinical policy §5: critical, then warning, then info; within one indicator, in the order of the orders (a stable sort keeps it). */
export function sortByIndicator<T extends { readonly card: CdsCard }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => INDICATOR_RANK[a.card.indicator] - INDICATOR_RANK[b.card.indicator]);
}
