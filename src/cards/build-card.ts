import type { Knowledge } from '../knowledge/load-knowledge.js';
import type { HookDefinitionFile, CardTemplateFile } from '../knowledge/schemas.js';
import { cleanConcept, isObject, objects, pruneEmpty, type Coding, type JsonObject } from '../fhir/json.js';
import type { Decision } from '../rules/decide.js';
import type { OrderEntry } from '../rules/order.js';
import type { PatientState } from '../rules/patient-state.js';
import type { ConditionEntry, ProcedureEntry } from '../rules/record.js';
import { ICD10CM } from '../terminology/code-index.js';
import { escapeMarkdown, fitSummary, midSentence } from './text.js';
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

const SYSTEM_NAMES: Record<string, string> = {
  [ICD10CM]: 'ICD-10-CM',
  'http://snomed.info/sct': 'SNOMED CT',
  'http://www.ama-assn.org/go/cpt': 'CPT',
};

function conditionName(entry: ConditionEntry): string {
  const name = midSentence(entry.label);
  if (entry.status === 'suspected') return `suspected ${name}`;
  if (entry.status === 'historical') return `history of ${name}`;
  return name;
}

/** The condition a card is about, named as the summary and detail give it. */
function focusConditions(decision: Decision, state: PatientState): { name: string; entries: ConditionEntry[] } {
  if (decision.row === 1) {
    const [first] = state.cord;
    if (first) return { name: conditionName(first), entries: [...state.cord, ...state.malignant] };
    const flag = state.redFlags[0];
    const spinal = state.flaggedWith[0];
    const name = flag && spinal ? `${conditionName(flag)} and ${midSentence(spinal.label)}` : 'neurological red flags';
    return { name, entries: [...state.redFlags, ...state.flaggedWith, ...state.malignant] };
  }
  if (decision.row === 5) {
    const first = state.cordOrStenosis[0];
    return { name: first ? midSentence(first.label) : 'cervical stenosis', entries: [...state.cordOrStenosis] };
  }
  const first = state.untreatedStenosis[0];
  return { name: first ? conditionName(first) : 'cervical stenosis', entries: [...state.untreatedStenosis] };
}

function orderName(order: OrderEntry, hook: HookDefinitionFile): string {
  let name = order.label;
  if (order.siteLabel && !name.toLowerCase().includes(order.siteLabel.toLowerCase())) name += ` (${midSentence(order.siteLabel)})`;
  if (hook.evaluates === 'patient-orders' && order.authoredOn) name += `, ordered ${order.authoredOn.written.slice(0, 10)}`;
  return name;
}

function codeText(codings: readonly Coding[]): string {
  const first = codings[0];
  if (!first?.system || !first.code) return '';
  return ` (${escapeMarkdown(SYSTEM_NAMES[first.system] ?? first.system)} ${escapeMarkdown(first.code)})`;
}

function conditionLine(entry: ConditionEntry): string {
  const parts = [entry.status === 'historical' ? 'history' : entry.status];
  if (entry.onset) parts.push(`since ${entry.onset.written.slice(0, 10)}`);
  if (entry.abatedOn) parts.push(`abated ${entry.abatedOn.slice(0, 10)}`);
  const how = entry.matchedBy === 'text' ? ' (matched on its text)' : codeText(entry.codings);
  return `- ${escapeMarkdown(entry.label)}: ${parts.join(', ')}${how}`;
}

function procedureLine(entry: ProcedureEntry): string {
  const when = entry.performed ? `performed ${entry.performed.written.slice(0, 10)}` : 'date not recorded';
  const how = entry.matchedBy === 'text' ? ' (matched on its text)' : codeText(entry.codings);
  return `- ${escapeMarkdown(entry.label)}: ${when}${how}`;
}

const SITE_WORDS = { cervical: 'cervical', unspecified: 'not specified, possibly the neck', remote: 'away from the neck' } as const;

/** Where the policy is silent or the record is vague, the card says which safer reading it took. */
function saferReadings(decision: Decision, order: OrderEntry, state: PatientState, focus: readonly ConditionEntry[]): string[] {
  const notes: string[] = [];
  if (decision.row === 2 || decision.row === 3) {
    if (order.siteBasis === 'absent') notes.push('The order names no body site, so it is treated as possibly including the neck.');
    if (order.siteBasis === 'unrecognised') notes.push('The order’s body site was not recognised, so it is treated as possibly including the neck.');
  }
  if (focus.some((c) => c.status === 'suspected' && (c.classes.has('CORD') || c.classes.has('RED_FLAG')))) {
    notes.push('A suspected diagnosis counts as present until it is ruled out.');
  }
  if (focus.some((c) => c.regionUnknown)) notes.push('Spinal stenosis recorded without a region is treated as cervical.');
  if (decision.row >= 2 && decision.row <= 4 && state.untreatedStenosis.some((c) => c.status === 'historical')) {
    notes.push('A history of cervical stenosis counts: without a decompression dated after it, the canal is assumed to be still narrow.');
  }
  if (decision.row >= 2 && decision.row <= 4 && state.undatedDecompressions.length > 0) {
    notes.push('A cervical decompression is on the record, but without dates showing that it followed the diagnosis, so the stenosis is still treated as untreated.');
  }
  if (decision.row === 1 && state.cord.length === 0) {
    notes.push('Red-flag findings with cervical stenosis or radiculopathy are handled like cord compression, also after surgery: new neurological signs after decompression are no less urgent.');
  }
  return notes;
}

function buildDetail(
  template: CardTemplateFile,
  decision: Decision,
  order: OrderEntry,
  state: PatientState,
  focus: readonly ConditionEntry[],
  env: CardEnvironment,
): string {
  const lines: string[] = [template.reason, ''];
  const site = order.siteLabel ? `${escapeMarkdown(order.siteLabel)} (${SITE_WORDS[order.site]})` : SITE_WORDS[order.site];
  const authored = order.authoredOn ? `; ordered ${order.authoredOn.written.slice(0, 10)}` : '';
  lines.push(`**Order:** ${escapeMarkdown(order.label)}; body site: ${site}${authored}`, '');
  lines.push('**On the record:**', ...focus.map(conditionLine));
  if (decision.row === 5 || state.undatedDecompressions.length > 0) {
    lines.push(...state.decompressions.map(procedureLine), ...state.undatedDecompressions.map(procedureLine));
  }
  lines.push('');
  if (template.showRedFlags) lines.push(`**Check for red flags:** ${env.knowledge.catalogue.redFlags.join('; ')}.`, '');
  lines.push('**Instead:**', ...template.instead.map((item) => `- ${item}`));
  if (decision.row === 1 && state.malignant.length > 0 && template.malignantAdvice) lines.push('', template.malignantAdvice);
  const notes = saferReadings(decision, order, state, focus);
  if (notes.length > 0) lines.push('', '**How this was read:**', ...notes.map((note) => `- ${note}`));
  return lines.join('\n');
}

function orderReference(order: OrderEntry): string | undefined {
  return order.id ? `${order.resourceType}/${order.id}` : undefined;
}

/** A Reference from the client, kept only when it still says something once emptied of blanks. */
function pruneReference(value: unknown): JsonObject | undefined {
  const pruned = pruneEmpty(value);
  return isObject(pruned) && (typeof pruned['reference'] === 'string' || typeof pruned['display'] === 'string' || isObject(pruned['identifier']))
    ? pruned
    : undefined;
}

/** A new ServiceRequest for a suggestion, built from the draft order (subject, encounter, requester). */
function newServiceRequest(templateKey: string, order: OrderEntry, context: CardContext, env: CardEnvironment): Record<string, unknown> {
  const template = env.knowledge.catalogue.orders[templateKey];
  if (!template) throw new Error(`unknown order template ${templateKey}`);
  const source: JsonObject = order.resource;
  const resource: Record<string, unknown> = {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'order',
    priority: template.priority,
    code: { coding: template.codings.map((c) => ({ ...c })), text: template.label },
    subject: pruneReference(source['subject']) ?? { reference: `Patient/${context.patientId}` },
    reasonCode: [{ text: template.reason }],
  };
  const encounter = pruneReference(source['encounter']) ?? (context.encounterId ? { reference: `Encounter/${context.encounterId}` } : undefined);
  if (encounter) resource['encounter'] = encounter;
  const requester =
    pruneReference(source['requester']) ??
    (context.userId && /^(Practitioner|PractitionerRole)\//.test(context.userId) ? { reference: context.userId } : undefined);
  if (requester) resource['requester'] = requester;
  if (template.copyBodySite) {
    const rawSites = source['bodySite'];
    const sites = (isObject(rawSites) ? [rawSites] : objects(rawSites)).map(cleanConcept).filter((c) => c !== undefined);
    if (sites.length > 0) resource['bodySite'] = sites;
  }
  return resource;
}

function buildSuggestions(
  template: CardTemplateFile,
  order: OrderEntry,
  hook: HookDefinitionFile,
  context: CardContext,
  orderLabel: string,
  env: CardEnvironment,
): CdsSuggestion[] {
  const verb = hook.removeOrderAs === 'revoke' ? 'Revoke' : 'Remove';
  const fill = (text: string) => text.replace('{Remove}', verb).replace('{order}', orderLabel);
  const reference = orderReference(order);
  const suggestions: CdsSuggestion[] = [];
  for (const suggestion of template.suggestions) {
    const actions: CdsAction[] = [];
    let possible = true;
    for (const action of suggestion.actions) {
      if (action.type === 'create-order') {
        actions.push({ type: 'create', description: fill(action.description), resource: newServiceRequest(action.order, order, context, env) });
      } else if (!reference) {
        possible = false;
      } else if (hook.removeOrderAs === 'delete') {
        actions.push({ type: 'delete', description: fill(action.description), resourceId: reference });
      } else {
        const current = pruneEmpty(order.resource);
        actions.push({ type: 'update', description: fill(action.description), resource: { ...(isObject(current) ? current : {}), status: 'revoked' } });
      }
    }
    if (!possible) continue;
    suggestions.push({
      label: fill(suggestion.label),
      uuid: env.newId(),
      ...(suggestion.isRecommended ? { isRecommended: true } : {}),
      actions,
    });
  }
  return suggestions;
}

/** Builds the card for one conflicting order (clinical policy §5). Pure apart from the injected id source. */
export function buildCard(
  decision: Decision,
  order: OrderEntry,
  state: PatientState,
  hook: HookDefinitionFile,
  context: CardContext,
  env: CardEnvironment,
): CdsCard {
  const template = env.knowledge.cards.get(decision.cardId);
  if (!template) throw new Error(`no card template for ${decision.cardId}`);
  const catalogue = env.knowledge.catalogue;
  const focus = focusConditions(decision, state);
  const name = orderName(order, hook);
  const card: CdsCard = {
    uuid: env.newId(),
    summary: fitSummary(template.summary, name, focus.name),
    detail: buildDetail(template, decision, order, state, focus.entries, env),
    indicator: template.indicator,
    source: { label: catalogue.source.label, topic: { system: catalogue.source.topicSystem, code: template.id, display: template.title } },
    links: [{ label: 'Why this alert: rationale and references', url: `${env.publicBaseUrl}/rationale/${template.id}`, type: 'absolute' }],
  };
  const suggestions = buildSuggestions(template, order, hook, context, order.label, env);
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
