/**
 * Clinical behaviour beyond one fixture at a time: the fixture set itself, fresh ids, the
 * rationale pages the cards link to, the log line for another patient's data (clinical-policy §1)
 * and summaries that stay short with long record texts (§5).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import request from 'supertest';
import {
  buildApp,
  callHook,
  CARD_IDS,
  fixtureFiles,
  hookOf,
  HOOKS,
  readFixture,
  readManifest,
  type Fixture,
} from './support.js';

const manifest = readManifest();
let app: Express;
beforeAll(() => {
  app = buildApp();
});

describe('the clinical fixture set', () => {
  it('lists every fixture file in the manifest exactly once, and nothing else', () => {
    const listed = manifest.fixtures.map((entry) => entry.file);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(fixtureFiles());
  });

  it('holds a valid hook request in every fixture, with the prefetch its hook needs', () => {
    for (const file of fixtureFiles()) {
      const fixture = readFixture(file);
      expect(fixture.parsed.hook).toBe(hookOf(file));
      const prefetch = fixture.body !== null && typeof fixture.body === 'object' && 'prefetch' in fixture.body ? fixture.body.prefetch : undefined;
      expect(prefetch).toEqual(expect.objectContaining({ conditions: expect.anything(), procedures: expect.anything(), patient: expect.anything() }));
      if (fixture.hook === 'patient-view') expect(prefetch).toEqual(expect.objectContaining({ serviceRequests: expect.anything() }));
      else if (fixture.hook === 'appointment-book') expect(fixture.parsed.context.appointments).toBeDefined();
      else expect(fixture.parsed.context.draftOrders).toBeDefined();
      if (fixture.hook === 'order-select') expect(fixture.parsed.context.selections).toBeDefined();
    }
  });

  it.each(HOOKS)('has a positive fixture for every policy row and several no-card fixtures on %s', (hook) => {
    const entries = manifest.fixtures.filter((entry) => hookOf(entry.file) === hook);
    for (const cardId of CARD_IDS) expect(entries.some((entry) => entry.cards.some((card) => card.cardId === cardId))).toBe(true);
    expect(entries.filter((entry) => entry.cards.length === 0).length).toBeGreaterThanOrEqual(5);
  });
});

describe('card identity (clinical-policy §5)', () => {
  it('gives every card and suggestion a fresh uuid on every call', async () => {
    const fixture = readFixture('cervical-stenosis-two-conflicting-orders.order-sign.json');
    const first = await callHook(app, fixture);
    const second = await callHook(app, fixture);
    const ids = [...first.cards, ...second.cards].flatMap((card) => [card.uuid, ...(card.suggestions ?? []).map((s) => s.uuid)]);
    expect(first.cards).toHaveLength(2);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(CARD_IDS)('serves the rationale page that a %s card links to, with its references', async (cardId) => {
    const entry = manifest.fixtures.find((e) => e.cards.some((card) => card.cardId === cardId));
    if (!entry) throw new Error(`no fixture yields ${cardId}`);
    const { cards } = await callHook(app, readFixture(entry.file));
    const card = cards.find((c) => c.source.topic?.code === cardId);
    const link = card?.links?.find((l) => l.url.endsWith(`/rationale/${cardId}`));
    expect(link).toBeDefined();
    const path = new URL(link?.url ?? 'http://invalid/').pathname;
    const page = await request(app).get(path);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain(cardId);
    expect(page.text).toMatch(/References/);
    expect(page.text).toMatch(/<cite>[^<]+<\/cite>/);
  });
});

describe('another patient\'s data (clinical-policy §1)', () => {
  it('ignores a condition of another patient and logs the mismatch without patient data', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const logged = buildApp({ logDestination: sink });
    const fixture = readFixture('other-patient-cord-compression-neck-massage.order-sign.json');
    const { status, cards } = await callHook(logged, fixture);
    expect(status).toBe(200);
    expect(cards).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    const all = lines.join('');
    expect(all).toMatch(/another patient|other patient|ignored/i);
    expect(all).not.toContain('pt-other-7781');
    expect(all).not.toContain(fixture.parsed.context.patientId);
    expect(all).not.toMatch(/cord compression/i);
  });
});

/** A copy of a fixture with the order's and the condition's texts replaced. */
function withTexts(fixture: Fixture, orderText: string, conditionText: string): Fixture {
  const body: unknown = JSON.parse(JSON.stringify(fixture.body), (key: string, value: unknown) => {
    if (key === 'text' && value === 'Neck massage') return orderText;
    if (key === 'text' && value === 'Cervical spinal stenosis') return conditionText;
    return value;
  });
  return { ...fixture, body };
}

describe('summary length (clinical-policy §5)', () => {
  const longOrder = 'Therapeutic soft tissue massage of the posterior neck and upper trapezius, twice weekly for six weeks, home programme to follow';
  const longCondition = 'Multilevel degenerative cervical spinal stenosis C3-C4 through C6-C7 with foraminal narrowing, worse on the left, per outside MRI report';

  it.each(HOOKS)('keeps the %s summary under 140 characters when the record texts are long', async (hook) => {
    const fixture = withTexts(readFixture(`cervical-stenosis-neck-massage.${hook}.json`), longOrder, longCondition);
    const { status, cards } = await callHook(app, fixture);
    expect(status).toBe(200);
    expect(cards).toHaveLength(1);
    const [card] = cards;
    expect(card?.source.topic?.code).toBe('cervical-stenosis-massage');
    expect(card?.summary.length ?? 999).toBeLessThan(140);
    expect(card?.summary.toLowerCase()).toContain('massage');
  });
});
