import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { expectValidCdsResponse } from '../../helpers/cds-response-schema.js';
import { buildTestApp, hookRequest, neckMassageOrder, PATIENT_ID, servicePath, type Json } from '../../helpers/requests.js';

interface Card {
  indicator: string;
  source: { topic: { code: string } };
}

async function cardsFor(body: Json): Promise<Card[]> {
  const response = await request(buildTestApp()).post(servicePath('order-sign')).send(body);
  expect(response.status).toBe(200);
  expectValidCdsResponse(response.body);
  return response.body.cards as Card[];
}

const cardIds = (cards: Card[]) => cards.map((card) => card.source.topic.code);

describe('encodings real clients send', () => {
  it('reads context.patientId sent in reference form (Patient/{id})', async () => {
    const body = hookRequest('order-sign');
    body['context'] = { ...(body['context'] as Json), patientId: `Patient/${PATIENT_ID}` };
    expect(cardIds(await cardsFor(body))).toEqual(['cervical-stenosis-massage']);
  });

  it('reads the code of an order sent as a CodeableReference (code.concept)', async () => {
    const { code, ...order } = neckMassageOrder();
    const cards = await cardsFor(hookRequest('order-sign', { orders: [{ ...order, code: { concept: code } }] }));
    expect(cardIds(cards)).toEqual(['cervical-stenosis-massage']);
  });

  it('reads a lone bodySite object like a one-element array', async () => {
    const lumbar = { coding: [{ system: 'http://snomed.info/sct', code: '122496007', display: 'Lumbar spine' }] };
    const cards = await cardsFor(hookRequest('order-sign', { orders: [{ ...neckMassageOrder(), bodySite: lumbar }] }));
    expect(cards.map((card) => [card.source.topic.code, card.indicator])).toEqual([['cervical-stenosis-remote-site', 'info']]);
  });
});
