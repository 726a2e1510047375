import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { expectValidCdsResponse } from '../../helpers/cds-response-schema.js';
import { buildTestApp, hookRequest, neckMassageOrder, servicePath } from '../../helpers/requests.js';

interface Card {
  suggestions?: Array<{ actions: Array<{ type: string; resourceId?: string }> }>;
  selectionBehavior?: string;
}

function withoutId(order: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, ...rest } = order;
  return rest;
}

describe('draft orders without an id', () => {
  it('takes the id from a Type/id fullUrl so the order can still be removed', async () => {
    const body = hookRequest('order-sign');
    const context = body['context'] as { draftOrders: { entry: Array<Record<string, unknown>> } };
    context.draftOrders.entry = [{ fullUrl: 'https://ehr.example.org/fhir/ServiceRequest/new-7', resource: withoutId(neckMassageOrder()) }];
    const response = await request(buildTestApp()).post(servicePath('order-sign')).send(body);
    expect(response.status).toBe(200);
    expectValidCdsResponse(response.body);
    const [card] = response.body.cards as Card[];
    const deletes = (card?.suggestions ?? []).flatMap((s) => s.actions).filter((a) => a.type === 'delete');
    expect(deletes.length).toBeGreaterThan(0);
    expect(deletes.every((a) => a.resourceId === 'ServiceRequest/new-7')).toBe(true);
  });

  it('still warns, without remove suggestions, when the order cannot be identified', async () => {
    const body = hookRequest('order-sign', { orders: [withoutId(neckMassageOrder())] });
    const response = await request(buildTestApp()).post(servicePath('order-sign')).send(body);
    expect(response.status).toBe(200);
    expectValidCdsResponse(response.body);
    const [card] = response.body.cards as Card[];
    expect(card).toBeDefined();
    expect(card?.suggestions).toBeUndefined();
    expect(card?.selectionBehavior).toBeUndefined();
  });
});
