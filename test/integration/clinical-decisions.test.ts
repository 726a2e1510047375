/**
 * The decision table of clinical-policy.md §4, driven by fixtures/requests/manifest.json: every
 * fixture is posted to its service and must return exactly the cards the policy requires.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import {
  buildApp,
  callHook,
  cardFor,
  expectCardFollowsPolicy,
  findOrder,
  readFixture,
  readManifest,
  scenarioOf,
  hookOf,
  type ManifestEntry,
} from './clinical/support.js';

const manifest = readManifest();

function describeExpectation(entry: ManifestEntry): string {
  if (entry.cards.length === 0) return 'returns no card';
  return `returns ${entry.cards.map((c) => `${c.indicator} ${c.cardId}`).join(' and ')}`;
}

/** Puts the policy line behind the expectation at the top of a failure. */
async function withPolicy(entry: ManifestEntry, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (error) {
    if (error instanceof Error) error.message = `Policy: ${entry.policy}\n\n${error.message}`;
    throw error;
  }
}

let app: Express;
beforeAll(() => {
  app = buildApp();
});

describe.each(['order-sign', 'order-select', 'patient-view', 'appointment-book'] as const)('%s: decision table (clinical-policy §4)', (hook) => {
  const entries = manifest.fixtures.filter((entry) => hookOf(entry.file) === hook);
  const cases = entries.map((entry) => ({ name: `${describeExpectation(entry)} for ${scenarioOf(entry.file)}`, entry }));

  it.each(cases)('$name', async ({ entry }) => {
    await withPolicy(entry, async () => {
      const fixture = readFixture(entry.file);
      const { status, cards } = await callHook(app, fixture);
      expect(status).toBe(200);

      const got = cards.map((card) => `${card.source.topic?.code ?? '?'} (${card.indicator})`).sort();
      const wanted = entry.cards.map((card) => `${card.cardId} (${card.indicator})`).sort();
      expect(got).toEqual(wanted);

      for (const expected of entry.cards) {
        const order = findOrder(fixture, expected.order);
        const card = cardFor(cards, order);
        expect(card).toBeDefined();
        if (!card) continue;
        expectCardFollowsPolicy(card, expected.cardId, order, hook, fixture.parsed.context.patientId);
        for (const text of entry.summaryIncludes ?? []) expect(card.summary.toLowerCase()).toContain(text.toLowerCase());
        for (const text of entry.detailIncludes ?? []) expect(card.detail ?? '').toContain(text);
        for (const text of entry.detailExcludes ?? []) expect((card.detail ?? '').toLowerCase()).not.toContain(text.toLowerCase());
      }
      const uuids = cards.map((card) => card.uuid);
      expect(new Set(uuids).size).toBe(uuids.length);
    });
  });
});
