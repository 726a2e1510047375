/**
 * Shared by the clinical integration tests: the app under test, the fixtures and manifest on disk,
 * and the card checks that clinical-policy.md §4–§5 asks of every card.
 */
import { expect } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';
import request from 'supertest';
import type { DestinationStream } from 'pino';
import { z } from 'zod';
import { createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { loadKnowledge } from '../../../src/knowledge/load-knowledge.js';
import { createLogger } from '../../../src/logger.js';

/** The project root, found from this file (test/integration/clinical/). */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FIXTURE_DIR = join(PROJECT_ROOT, 'fixtures', 'requests');
export const NOW = new Date('2026-11-24T12:00:00Z');

export const HOOKS = ['order-sign', 'order-select', 'patient-view', 'appointment-book'] as const;
export type HookName = (typeof HOOKS)[number];

export const SERVICE_IDS: Record<HookName, string> = {
  'order-sign': 'spine-safety-order-sign',
  'order-select': 'spine-safety-order-select',
  'patient-view': 'spine-safety-patient-view',
  'appointment-book': 'spine-safety-appointment-book',
};

/** The knowledge the service loads: card ids, rows and wording come from here, never from a list in a test. */
export const KNOWLEDGE = loadKnowledge();

/** A card id of the loaded knowledge, with its decision-table row and indicator. */
export function templateOf(cardId: string): { row: number; indicator: string } {
  const template = KNOWLEDGE.cards.get(cardId);
  if (!template) throw new Error(`no card template ${cardId} in the loaded knowledge`);
  return template;
}
export const CARD_IDS = [...KNOWLEDGE.cards.keys()].sort();

/** clinical-policy.md §5: the override reasons each row offers, as the policy words them. */
export const OVERRIDE_REASONS_BY_ROW: Record<number, readonly string[]> = {
  1: [
    'cord compression excluded by imaging',
    'cleared by the treating spine surgeon',
    'the diagnosis on the record is wrong or out of date',
    'patient informed and accepts the risk',
  ],
  2: [
    'imaging shows no cord compromise',
    'cleared by the treating spine surgeon',
    'therapy limited to sites away from the neck and spine',
    'the diagnosis on the record is wrong or out of date',
    'patient informed and accepts the risk',
  ],
  4: [],
  5: [],
};
OVERRIDE_REASONS_BY_ROW[3] = OVERRIDE_REASONS_BY_ROW[2] ?? [];

/** clinical-policy.md §5: the red flags every card of rows 1–3 lists. */
export const RED_FLAGS = [
  /progressive weakness or sensory loss in the arms or legs/i,
  /hand clumsiness or loss of dexterity/i,
  /Lhermitte's sign/i,
  /bowel or bladder dysfunction/i,
  /gait or balance problems/i,
  /saddle anaesthesia or symptoms in both legs/i,
] as const;

export interface AppOptions {
  readonly logDestination?: DestinationStream;
  readonly newId?: () => string;
}

/** The app as the brief specifies it: test config, real knowledge, silent logs, clock pinned to 2026-11-24. */
export function buildApp(options: AppOptions = {}): Express {
  const logger = options.logDestination ? createLogger('info', options.logDestination) : createLogger('silent');
  return createApp({
    config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
    knowledge: KNOWLEDGE,
    logger,
    clock: () => new Date(NOW),
    ...(options.newId ? { newId: options.newId } : {}),
  });
}

// ---- fixtures and manifest -----------------------------------------------------------------

const ManifestCard = z.strictObject({
  order: z.string().regex(/^[A-Z][A-Za-z]+\/[A-Za-z0-9.-]+$/),
  cardId: z.string().regex(/^[a-z0-9-]+$/),
  indicator: z.enum(['info', 'warning', 'critical']),
});

const ManifestEntry = z.strictObject({
  file: z.string().regex(/^[a-z0-9-]+\.(order-sign|order-select|patient-view|appointment-book)\.json$/),
  policy: z.string().min(1),
  cards: z.array(ManifestCard),
  summaryIncludes: z.array(z.string().min(1)).optional(),
  detailIncludes: z.array(z.string().min(1)).optional(),
  detailExcludes: z.array(z.string().min(1)).optional(),
});
export type ManifestEntry = z.infer<typeof ManifestEntry>;

const Manifest = z.strictObject({
  description: z.string(),
  patientId: z.string().min(1),
  today: z.string(),
  fixtures: z.array(ManifestEntry).min(1),
});
export type Manifest = z.infer<typeof Manifest>;

export function readManifest(): Manifest {
  return Manifest.parse(JSON.parse(readFileSync(join(FIXTURE_DIR, 'manifest.json'), 'utf8')));
}

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((name) => name.endsWith('.json') && name !== 'manifest.json')
    .sort();
}

export function hookOf(file: string): HookName {
  const hook = HOOKS.find((h) => file.endsWith(`.${h}.json`));
  if (!hook) throw new Error(`${file}: the name does not end in .<hook>.json`);
  return hook;
}

export function scenarioOf(file: string): string {
  return file.replace(/\.(order-sign|order-select|patient-view|appointment-book)\.json$/, '');
}

const CodeableConcept = z.looseObject({
  text: z.string().optional(),
  coding: z.array(z.looseObject({ system: z.string().optional(), code: z.string().optional(), display: z.string().optional() })).optional(),
});

const FhirResource = z.looseObject({
  resourceType: z.string(),
  id: z.string().optional(),
  status: z.string().optional(),
  code: CodeableConcept.optional(),
  authoredOn: z.string().optional(),
  serviceType: z.array(CodeableConcept).optional(),
  specialty: z.array(CodeableConcept).optional(),
  description: z.string().optional(),
});
export type FhirResource = z.infer<typeof FhirResource>;

const ResourceBundle = z.looseObject({
  resourceType: z.literal('Bundle'),
  entry: z.array(z.looseObject({ resource: FhirResource })).optional(),
});

const HookRequest = z.looseObject({
  hook: z.enum(HOOKS),
  hookInstance: z.string(),
  context: z.looseObject({
    patientId: z.string(),
    draftOrders: ResourceBundle.optional(),
    selections: z.array(z.string()).optional(),
    appointments: ResourceBundle.optional(),
  }),
  prefetch: z.looseObject({ serviceRequests: ResourceBundle.optional() }).optional(),
});
export type HookRequest = z.infer<typeof HookRequest>;

export interface Fixture {
  readonly file: string;
  readonly hook: HookName;
  /** The request exactly as on disk (sent as is). */
  readonly body: unknown;
  readonly parsed: HookRequest;
}

export function readFixture(file: string): Fixture {
  const body: unknown = JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8'));
  return { file, hook: hookOf(file), body, parsed: HookRequest.parse(body) };
}

/** The orders a hook evaluates come from here: draftOrders on order hooks, prefetch serviceRequests on patient-view. */
export function ordersOf(fixture: Fixture): FhirResource[] {
  const source =
    fixture.hook === 'patient-view'
      ? fixture.parsed.prefetch?.serviceRequests
      : fixture.hook === 'appointment-book'
        ? fixture.parsed.context.appointments
        : fixture.parsed.context.draftOrders;
  return (source?.entry ?? []).map((entry) => entry.resource);
}

export function findOrder(fixture: Fixture, reference: string): FhirResource {
  const [type, id] = reference.split('/');
  const found = ordersOf(fixture).find((r) => r.resourceType === type && r.id === id);
  if (!found) throw new Error(`${fixture.file}: no order ${reference}`);
  return found;
}

/** How the EHR shows an order: its code.text, else its first coding display (an appointment: its serviceType, else its description). */
export function orderLabel(order: FhirResource): string {
  const label = recordLabel(order);
  if (!label) throw new Error(`order ${order.id ?? '?'} has no label`);
  return label;
}

// ---- the response ------------------------------------------------------------------------------

const Coding = z.looseObject({ system: z.string().optional(), code: z.string(), display: z.string().optional() });
const Action = z.looseObject({
  type: z.enum(['create', 'update', 'delete']),
  description: z.string(),
  resourceId: z.string().optional(),
  resource: z.record(z.string(), z.unknown()).optional(),
});
const Suggestion = z.looseObject({
  label: z.string(),
  uuid: z.string().optional(),
  isRecommended: z.boolean().optional(),
  actions: z.array(Action).optional(),
});
const Card = z.looseObject({
  uuid: z.string().optional(),
  summary: z.string(),
  detail: z.string().optional(),
  indicator: z.enum(['info', 'warning', 'critical']),
  source: z.looseObject({ label: z.string(), topic: Coding.optional() }),
  suggestions: z.array(Suggestion).optional(),
  selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
  overrideReasons: z.array(Coding).optional(),
  links: z.array(z.looseObject({ label: z.string(), url: z.string(), type: z.string() })).optional(),
});
export type Card = z.infer<typeof Card>;
export type Action = z.infer<typeof Action>;
export type Suggestion = z.infer<typeof Suggestion>;
const CardsResponse = z.looseObject({ cards: z.array(Card) });

export interface HookResult {
  readonly status: number;
  readonly cards: Card[];
}

/** Posts a fixture to its service; a non-200 answer is returned with no cards so the test can say so. */
export async function callHook(app: Express, fixture: Fixture): Promise<HookResult> {
  const response = await request(app)
    .post(`/cds-services/${SERVICE_IDS[fixture.hook]}`)
    .set('Content-Type', 'application/json')
    .send(JSON.stringify(fixture.body));
  if (response.status !== 200) return { status: response.status, cards: [] };
  return { status: response.status, cards: CardsResponse.parse(response.body).cards };
}

// ---- what every card must carry (clinical-policy.md §5) -------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function allActions(card: Card): Action[] {
  return (card.suggestions ?? []).flatMap((s) => s.actions ?? []);
}

function codingsOf(resource: Record<string, unknown> | undefined): Array<{ system: string | undefined; code: string | undefined }> {
  const parsed = z.looseObject({ code: CodeableConcept.optional() }).safeParse(resource ?? {});
  if (!parsed.success) return [];
  return (parsed.data.code?.coding ?? []).map((c) => ({ system: c.system, code: c.code }));
}

/** A `create` of a ServiceRequest for this patient carrying one of the given codings. */
export function findCreate(card: Card, wanted: ReadonlyArray<{ system: string; code: string }>, patientId: string): Action | undefined {
  return allActions(card).find((action) => {
    if (action.type !== 'create' || action.resource?.['resourceType'] !== 'ServiceRequest') return false;
    const subject = z.looseObject({ reference: z.string() }).safeParse(action.resource['subject']);
    if (!subject.success || subject.data.reference !== `Patient/${patientId}`) return false;
    return codingsOf(action.resource).some((c) => wanted.some((w) => w.system === c.system && w.code === c.code));
  });
}

const CPT = 'http://www.ama-assn.org/go/cpt';
const SNOMED = 'http://snomed.info/sct';
export const MRI_CERVICAL = [
  { system: 'http://loinc.org', code: '24935-9' },
  { system: CPT, code: '72141' },
] as const;
export const MRI_WHOLE_SPINE = [
  [{ system: CPT, code: '72141' }],
  [{ system: CPT, code: '72146' }],
  [{ system: CPT, code: '72148' }],
] as const;
export const NEUROSURGERY_REFERRAL = [{ system: SNOMED, code: '308482002' }] as const;
export const PT_REFERRAL = [{ system: SNOMED, code: '308447003' }] as const;

/** The created resources of a card, in the order of its suggestions. */
export function createdResources(card: Card): Array<Record<string, unknown>> {
  return allActions(card)
    .filter((a) => a.type === 'create')
    .map((a) => a.resource ?? {});
}

/** How the order is named: its code.text, else its first coding display (or undefined when it has neither). */
function recordLabel(order: FhirResource): string | undefined {
  const concept = order.resourceType === 'Appointment' ? (order.serviceType?.[0] ?? order.specialty?.[0]) : order.code;
  return concept?.text ?? concept?.coding?.find((c) => c.display !== undefined)?.display ?? (order.resourceType === 'Appointment' ? order.description : undefined);
}

/** The short name the knowledge gives an order's class. */
function orderShortNames(): string[] {
  const shorts = KNOWLEDGE.catalogue.shortNames.classes;
  return [shorts.MASSAGE, shorts.MANUAL, shorts.MANIPULATION].filter((s): s is string => s !== undefined);
}

/** The card about `order`: the one whose removal names it, else whose summary names it as the EHR shows it. */
export function cardFor(cards: readonly Card[], order: FhirResource): Card | undefined {
  const reference = `${order.resourceType}/${order.id ?? ''}`;
  const byAction = cards.find((card) =>
    allActions(card).some((a) => (a.type === 'delete' && a.resourceId === reference) || (a.type === 'update' && a.resource?.['id'] === order.id)),
  );
  if (byAction) return byAction;
  const label = recordLabel(order)?.toLowerCase();
  return label ? cards.find((card) => card.summary.toLowerCase().includes(label)) : undefined;
}

/** Every word a summary may use: the template's words, the record's names and the knowledge's names. */
function allowedWords(fixture: Fixture): Set<string> {
  const texts: string[] = [JSON.stringify(fixture.body), ...orderShortNames(), 'suspected history of the order condition'];
  for (const template of KNOWLEDGE.cards.values()) texts.push(template.summary, ...Object.values(template.variants).map((v) => v.summary ?? ''));
  texts.push(...Object.values(KNOWLEDGE.catalogue.shortNames.classes), ...KNOWLEDGE.catalogue.shortNames.codes.map((c) => c.short));
  for (const vs of ['cervical-stenosis', 'cord-compression', 'red-flags', 'cervical-radiculopathy', 'massage', 'manual-therapy', 'spinal-manipulation']) texts.push(vs);
  // §5: a code sent without a display is named from the knowledge.
  texts.push(...knowledgeDisplays(fixture.body));
  return new Set(texts.join(' ').toLowerCase().split(/[^\p{L}\p{N}'’]+/u).filter((w) => w !== ''));
}

/** The knowledge's displays of every coding in a request body (what a card may name a display-less code by). */
function knowledgeDisplays(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(knowledgeDisplays);
  if (typeof value !== 'object' || value === null) return [];
  const found: string[] = [];
  const record = Object.fromEntries(Object.entries(value));
  const { system, code } = record;
  if (typeof system === 'string' && typeof code === 'string') {
    const display = KNOWLEDGE.names.display(system, code);
    if (display) found.push(display);
  }
  for (const child of Object.values(record)) found.push(...knowledgeDisplays(child));
  return found;
}

const words = (text: string) => text.toLowerCase().split(/[^\p{L}\p{N}'’]+/u).filter((w) => w !== '');

/** Reader's word count of a markdown detail. */
export function wordCount(markdown: string): number {
  return markdown.split(/\s+/).filter((token) => /[\p{L}\p{N}]/u.test(token)).length;
}

/** The condition names a summary may use for this request: the record's texts and displays, and the knowledge's names. */
function conditionNames(fixture: Fixture): string[] {
  const body = z.looseObject({ prefetch: z.looseObject({ conditions: ResourceBundle.nullable().optional() }).optional() }).safeParse(fixture.body);
  const conditions = body.success ? (body.data.prefetch?.conditions?.entry ?? []).map((e) => e.resource) : [];
  const names = conditions.flatMap((c) => [c.code?.text, ...(c.code?.coding ?? []).map((x) => x.display)]).filter((n): n is string => n !== undefined);
  names.push(...Object.values(KNOWLEDGE.catalogue.shortNames.classes), ...KNOWLEDGE.catalogue.shortNames.codes.map((c) => c.short));
  for (const coding of conditions.flatMap((c) => c.code?.coding ?? [])) {
    const display = coding.system && coding.code ? KNOWLEDGE.names.display(coding.system, coding.code) : undefined;
    if (display) names.push(display);
  }
  return names.map((n) => n.toLowerCase());
}

/**
 * The checks of clinical-policy.md §4–§5 for one card about one order on one hook.
 * Throws (via expect) on the first field that breaks the policy.
 */
export function expectCardFollowsPolicy(card: Card, cardId: string, order: FhirResource, fixture: Fixture): void {
  const { hook } = fixture;
  const patientId = fixture.parsed.context.patientId;
  const { row, indicator } = templateOf(cardId);
  const detail = card.detail ?? '';

  // §4 row and indicator, §5 source and identity.
  expect(card.source.topic?.code).toBe(cardId);
  expect(card.indicator).toBe(indicator);
  expect(card.source.label.trim()).not.toBe('');
  expect(card.uuid).toMatch(UUID);

  // §5 summary: < 140 characters, whole words, no ellipsis, both names present; nothing identifying.
  const summary = card.summary.toLowerCase();
  expect(card.summary.length).toBeLessThan(140);
  expect(card.summary).not.toMatch(/…|\.\.\./);
  const allowed = allowedWords(fixture);
  expect(words(card.summary).filter((w) => !allowed.has(w))).toEqual([]);
  const label = recordLabel(order);
  // §5: a code sent without a display is named from the knowledge.
  const orderNames = [label, ...orderShortNames(), ...knowledgeDisplays(order)].map((n) => n?.toLowerCase());
  const orderNamed = orderNames.some((n) => n !== undefined && summary.includes(n));
  expect(orderNamed).toBe(true);
  expect(conditionNames(fixture).some((n) => summary.includes(n))).toBe(true);
  expect(card.summary).not.toContain(patientId);
  expect(detail).not.toContain(patientId);

  // §5 detail: at most 120 words; the red flags on rows 1–3.
  expect(wordCount(detail)).toBeLessThanOrEqual(120);
  if (row <= 3) for (const flag of RED_FLAGS) expect(detail).toMatch(flag);

  // §5 link to the rationale page the service serves.
  expect((card.links ?? []).some((link) => link.url.endsWith(`/rationale/${cardId}`))).toBe(true);

  // §5 per row: what to do.
  if (row === 1) {
    expect(detail).toMatch(/MRI/);
    expect(detail).toMatch(/neurosurg|spine surg/i);
    expect(detail).toMatch(/NSAID/);
    expect(detail).toMatch(/muscle relaxant/i);
  } else if (row === 2 || row === 3) {
    expect(detail).toMatch(/myelopathy/i);
    expect(detail).toMatch(/physical therapy/i);
    expect(detail).toMatch(/strengthening/i);
    expect(detail).toMatch(/stretching/i);
    expect(detail).toMatch(/NSAID/);
    expect(detail).toMatch(/muscle relaxant/i);
  } else if (row === 4) {
    expect(detail).toMatch(/neutral/i);
  } else {
    expect(detail).toMatch(/adjunct/i);
    expect(detail).toMatch(/clearance/i);
    expect(detail).toMatch(/physical therapy/i);
  }

  // §5 suggestions.
  const suggestions = card.suggestions ?? [];
  if (suggestions.length > 0) expect(card.selectionBehavior).toBe('at-most-one');
  for (const suggestion of suggestions) {
    expect(suggestion.label.trim()).not.toBe('');
    expect(suggestion.label).not.toMatch(/the [A-Z][a-z]/);
    expect(suggestion.actions?.length ?? 0).toBeGreaterThan(0);
  }
  const actions = allActions(card);
  const reference = `${order.resourceType}/${order.id ?? ''}`;
  const removes = (a: Action) =>
    hook === 'patient-view'
      ? a.type === 'update' && a.resource?.['resourceType'] === order.resourceType && a.resource['id'] === order.id && a.resource['status'] === 'revoked'
      : a.type === 'delete' && a.resourceId === reference;
  const creates = (s: Suggestion) => (s.actions ?? []).filter((a) => a.type === 'create').map((a) => codingsOf(a.resource));
  const has = (created: ReturnType<typeof creates>, wanted: ReadonlyArray<{ system: string; code: string }>) =>
    created.some((codings) => codings.some((c) => wanted.some((w) => w.system === c.system && w.code === c.code)));
  if (row === 4 || row === 5) {
    expect(suggestions).toEqual([]);
  } else {
    const [recommended, ...others] = suggestions.filter((s) => s.isRecommended === true);
    expect(others).toEqual([]);
    expect(recommended).toBeDefined();
    if (!recommended) return;
    expect((recommended.actions ?? []).some(removes)).toBe(true);
    if (row === 1) {
      // One click: remove the order, order the MRI(s) and refer to neurosurgery.
      const created = creates(recommended);
      expect(has(created, NEUROSURGERY_REFERRAL)).toBe(true);
      const malignant = /dexamethasone/.test(detail);
      if (malignant) for (const mri of MRI_WHOLE_SPINE) expect(has(created, mri)).toBe(true);
      else expect(has(created, MRI_CERVICAL)).toBe(true);
      expect(created).toHaveLength(malignant ? 4 : 2);
      const onlyRemoves = suggestions.filter((s) => s !== recommended && (s.actions ?? []).length === 1 && (s.actions ?? []).every(removes));
      expect(onlyRemoves).toHaveLength(1);
    } else {
      expect((recommended.actions ?? []).every(removes)).toBe(true);
      const replace = suggestions.find((s) => s !== recommended && (s.actions ?? []).some(removes) && has(creates(s), PT_REFERRAL));
      expect(replace).toBeDefined();
    }
  }
  // §5: one meaning per CodeableConcept: the physiotherapy referral carries SNOMED 308447003 alone.
  for (const resource of createdResources(card)) {
    const codings = codingsOf(resource);
    if (codings.some((c) => c.code === '308447003')) {
      expect(codings).toEqual([{ system: SNOMED, code: '308447003' }]);
      expect(z.looseObject({ code: z.looseObject({ text: z.string() }) }).parse(resource).code.text).toBe('Supervised physical therapy: strengthening and stretching');
    }
  }
  if (hook === 'patient-view') {
    // §5: the orders are signed; no delete, and the card names the order's authoredOn date.
    expect(actions.filter((a) => a.type === 'delete')).toEqual([]);
    if (order.authoredOn) expect(`${card.summary}\n${detail}`).toContain(order.authoredOn.slice(0, 10));
    expect(card.overrideReasons).toBeUndefined();
  } else {
    // §5: override reasons fit the row, coded with a display; info cards carry none.
    const reasons = card.overrideReasons ?? [];
    for (const reason of reasons) {
      expect(reason.system?.trim() ?? '').not.toBe('');
      expect(reason.code.trim()).not.toBe('');
      expect(reason.display?.trim() ?? '').not.toBe('');
    }
    expect(reasons.map((r) => (r.display ?? '').toLowerCase())).toEqual(OVERRIDE_REASONS_BY_ROW[row]);
  }
}

/** A request built in code, read as the fixtures on disk are (for the policy matrix). */
export function fixtureOf(name: string, hook: HookName, body: unknown): Fixture {
  return { file: `${name}.${hook}.json`, hook, body, parsed: HookRequest.parse(body) };
}

/** The cards of a 200 answer, parsed as the checks above read them. */
export function parseCards(body: unknown): Card[] {
  return CardsResponse.parse(body).cards;
}
