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

/** clinical-policy.md §4: card id → row and indicator. */
export const POLICY_ROWS = {
  'cord-compression-manual-therapy': { row: 1, indicator: 'critical' },
  'cervical-stenosis-manipulation': { row: 2, indicator: 'critical' },
  'cervical-stenosis-massage': { row: 3, indicator: 'warning' },
  'cervical-stenosis-remote-site': { row: 4, indicator: 'info' },
  'post-decompression-clearance': { row: 5, indicator: 'info' },
} as const;
export type CardId = keyof typeof POLICY_ROWS;
export const CARD_IDS = Object.keys(POLICY_ROWS) as CardId[];
const CardIdSchema = z.enum(['cord-compression-manual-therapy', 'cervical-stenosis-manipulation', 'cervical-stenosis-massage', 'cervical-stenosis-remote-site', 'post-decompression-clearance']);

/** clinical-policy.md §5: the override reasons every order-hook card offers, at least. */
export const REQUIRED_OVERRIDE_REASONS = [
  'compression excluded by imaging',
  'cleared by the treating spine surgeon',
  'therapy limited to sites away from the neck and spine',
  'patient informed and accepts the risk',
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
    knowledge: loadKnowledge(),
    logger,
    clock: () => new Date(NOW),
    ...(options.newId ? { newId: options.newId } : {}),
  });
}

// ---- fixtures and manifest -----------------------------------------------------------------

const ManifestCard = z.strictObject({
  order: z.string().regex(/^(ServiceRequest|Appointment)\/[A-Za-z0-9.-]+$/),
  cardId: CardIdSchema,
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
  const concept = order.resourceType === 'Appointment' ? (order.serviceType?.[0] ?? order.specialty?.[0]) : order.code;
  const label = concept?.text ?? concept?.coding?.find((c) => c.display !== undefined)?.display ?? order.description;
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

export const MRI_CERVICAL = [
  { system: 'http://loinc.org', code: '24935-9' },
  { system: 'http://www.ama-assn.org/go/cpt', code: '72141' },
] as const;
export const NEUROSURGERY_REFERRAL = [{ system: 'http://snomed.info/sct', code: '308482002' }] as const;
export const PT_REFERRAL = [
  { system: 'http://www.ama-assn.org/go/cpt', code: '97110' },
  { system: 'http://snomed.info/sct', code: '308447003' },
] as const;

/** The card about `order`: the one whose summary names the order as the EHR shows it. */
export function cardFor(cards: readonly Card[], order: FhirResource): Card | undefined {
  const label = orderLabel(order).toLowerCase();
  return cards.find((card) => card.summary.toLowerCase().includes(label));
}

/**
 * The checks of clinical-policy.md §4–§5 for one card about one order on one hook.
 * Throws (via expect) on the first field that breaks the policy.
 */
export function expectCardFollowsPolicy(card: Card, cardId: CardId, order: FhirResource, hook: HookName, patientId: string): void {
  const { row, indicator } = POLICY_ROWS[cardId];
  const detail = card.detail ?? '';
  const label = orderLabel(order);

  // §4 row and indicator, §5 source and identity.
  expect(card.source.topic?.code).toBe(cardId);
  expect(card.indicator).toBe(indicator);
  expect(card.source.label.trim()).not.toBe('');
  expect(card.uuid).toMatch(UUID);

  // §5 summary: < 140 characters, names the order; nothing identifying beyond what the EHR shows.
  expect(card.summary.length).toBeLessThan(140);
  expect(card.summary.toLowerCase()).toContain(label.toLowerCase());
  expect(card.summary).not.toContain(patientId);
  expect(detail).not.toContain(patientId);

  // §5 detail: the red flags to check.
  for (const flag of [/weakness/i, /sensory loss/i, /bladder/i, /bowel/i, /gait|balance/i, /saddle/i, /both legs|bilateral/i]) expect(detail).toMatch(flag);

  // §5 link to the rationale page the service serves.
  expect((card.links ?? []).some((link) => link.url.endsWith(`/rationale/${cardId}`))).toBe(true);

  // §5 per row: what to do instead.
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
  if (suggestions.length > 0) expect(card.selectionBehavior).toBeDefined();
  for (const suggestion of suggestions) {
    expect(suggestion.label.trim()).not.toBe('');
    expect(suggestion.actions?.length ?? 0).toBeGreaterThan(0);
  }
  const actions = allActions(card);
  const reference = `${order.resourceType}/${order.id ?? ''}`;
  if (row === 4 || row === 5) {
    expect(suggestions).toEqual([]);
  } else {
    const removal = suggestions.find((s) =>
      (s.actions ?? []).some((a) =>
        hook === 'patient-view'
          ? a.type === 'update' && a.resource?.['resourceType'] === 'ServiceRequest' && a.resource['id'] === order.id && a.resource['status'] === 'revoked'
          : a.type === 'delete' && a.resourceId === reference,
      ),
    );
    expect(removal).toBeDefined();
    expect(removal?.isRecommended).toBe(true);
    if (row === 1) {
      expect(findCreate(card, MRI_CERVICAL, patientId)).toBeDefined();
      expect(findCreate(card, NEUROSURGERY_REFERRAL, patientId)).toBeDefined();
    } else {
      expect(findCreate(card, PT_REFERRAL, patientId)).toBeDefined();
    }
  }
  if (hook === 'patient-view') {
    // §5: the orders are signed; no delete, and the card names the order's authoredOn date.
    expect(actions.filter((a) => a.type === 'delete')).toEqual([]);
    if (order.authoredOn) expect(`${card.summary}\n${detail}`).toContain(order.authoredOn.slice(0, 10));
    expect(card.overrideReasons).toBeUndefined();
  } else {
    // §5: order-select, order-sign and appointment-book cards carry coded override reasons with a display.
    const reasons = card.overrideReasons ?? [];
    for (const reason of reasons) {
      expect(reason.system?.trim() ?? '').not.toBe('');
      expect(reason.code.trim()).not.toBe('');
      expect(reason.display?.trim() ?? '').not.toBe('');
    }
    const displays = reasons.map((r) => (r.display ?? '').toLowerCase());
    for (const wanted of REQUIRED_OVERRIDE_REASONS) expect(displays.some((d) => d.includes(wanted))).toBe(true);
  }
}
