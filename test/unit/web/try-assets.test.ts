/**
 * The /try page's sample patients and order choices: codes only from the knowledge, and a sample
 * for every policy row (clinical-policy.md §4), a malignant cord compression and one that raises nothing.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { KnowledgeError } from '../../../src/knowledge/load-knowledge.js';
import { projectRoot } from '../../../src/paths.js';
import { loadTryAssets } from '../../../src/web/try-assets.js';
import { testKnowledge } from '../../helpers/requests.js';

/** Code systems whose codes the rules read: every coding of these in a sample must come from a value set. */
const CLINICAL_SYSTEMS = new Set(['http://hl7.org/fhir/sid/icd-10-cm', 'http://snomed.info/sct', 'http://www.ama-assn.org/go/cpt']);

interface Found {
  readonly system: string;
  readonly code: string;
}

function codingsIn(value: unknown, found: Found[] = []): Found[] {
  if (Array.isArray(value)) {
    for (const item of value) codingsIn(item, found);
  } else if (typeof value === 'object' && value !== null) {
    const system: unknown = Reflect.get(value, 'system');
    const code: unknown = Reflect.get(value, 'code');
    if (typeof system === 'string' && typeof code === 'string') found.push({ system, code });
    for (const inner of Object.values(value)) codingsIn(inner, found);
  }
  return found;
}

describe('try page assets', () => {
  const knowledge = testKnowledge();
  const assets = loadTryAssets(knowledge);
  const resources = (bundle: { entry: Array<{ resource: Record<string, unknown> }> }) => bundle.entry.map((entry) => entry.resource);

  it('uses in its samples only clinical codes that a value set of the knowledge holds', () => {
    const unknown = assets.samples.flatMap((sample) =>
      codingsIn(sample.bundle)
        .filter((coding) => CLINICAL_SYSTEMS.has(coding.system) && knowledge.codes.lookup(coding.system, coding.code) === undefined)
        .map((coding) => `${sample.id}: ${coding.system}|${coding.code}`),
    );
    expect(unknown).toEqual([]);
  });

  it('has a sample for every policy row, one that raises nothing, and each with exactly one Patient', () => {
    expect(new Set(assets.samples.map((sample) => sample.row))).toEqual(new Set([1, 2, 3, 4, 5, null]));
    for (const sample of assets.samples) expect(resources(sample.bundle).filter((r) => r['resourceType'] === 'Patient')).toHaveLength(1);
  });

  it('has a malignant cord compression sample (a cord compression code with a C-code)', () => {
    const malignant = assets.samples.filter((sample) => {
      const classes = codingsIn(sample.bundle).map((coding) => knowledge.codes.lookup(coding.system, coding.code)?.classes ?? []);
      return classes.some((c) => c.includes('CORD')) && classes.some((c) => c.includes('MALIGNANT'));
    });
    expect(malignant.length).toBeGreaterThanOrEqual(1);
  });

  it('gives the samples of rows 1-3 an active therapy order with authoredOn, so patient-view has something to check', () => {
    for (const sample of assets.samples.filter((s) => s.row !== null && s.row <= 3)) {
      const orders = resources(sample.bundle).filter((r) => r['resourceType'] === 'ServiceRequest' && r['status'] === 'active' && typeof r['authoredOn'] === 'string');
      const therapy = orders.filter((order) =>
        codingsIn(order['code']).some((coding) => (knowledge.codes.lookup(coding.system, coding.code)?.classes ?? []).some((c) => ['MASSAGE', 'MANUAL', 'MANIPULATION'].includes(c))),
      );
      expect(`${sample.id}: ${therapy.length > 0}`).toBe(`${sample.id}: true`);
    }
  });

  it('takes the order and body-site displays from the value sets', () => {
    expect(assets.options.orders.find((o) => o.id === 'massage')?.coding).toEqual({ system: 'http://www.ama-assn.org/go/cpt', code: '97124', display: 'Massage therapy' });
    expect(assets.options.bodySites.find((s) => s.id === 'neck')?.coding).toEqual({ system: 'http://snomed.info/sct', code: '45048000', display: 'Neck' });
    expect(assets.options.bodySites.find((s) => s.id === 'none')?.coding).toBeUndefined();
  });

  it('refuses an order choice whose code is not in its value set', () => {
    const root = mkdtempSync(join(tmpdir(), 'try-assets-'));
    try {
      cpSync(join(projectRoot(), 'web'), join(root, 'web'), { recursive: true });
      const file = join(root, 'web', 'try-options.json');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"97124"', '"97999"'));
      expect(() => loadTryAssets(knowledge, root)).toThrow(KnowledgeError);
      expect(() => loadTryAssets(knowledge, root)).toThrow(/massage: code 97999 is not in value set massage/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
