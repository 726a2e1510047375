/** clinical-policy §2 derived facts and §4 decision table, over hand-built record entries. */
import { describe, expect, it } from '@jest/globals';
import type { ConflictClass, KnowledgeClass, Site } from '../../../src/knowledge/classes.js';
import { decide, type CardId } from '../../../src/rules/decide.js';
import type { OrderEntry } from '../../../src/rules/order.js';
import { conditionEntry, decompressionEntry } from '../../helpers/record-entries.js';
import { derivePatientState } from '../../../src/rules/patient-state.js';
import type { ConditionEntry, ConditionStatus, ProcedureEntry } from '../../../src/rules/record.js';



const condition = (classes: KnowledgeClass[], status: ConditionStatus = 'active', onset = '2024-03-10'): ConditionEntry =>
  conditionEntry(classes, { status, onset });
const decompression = (performed: string | undefined, completed = true): ProcedureEntry => decompressionEntry(performed, completed);

function order(classes: ConflictClass[], site: Site = 'cervical'): OrderEntry {
  return {
    resourceType: 'ServiceRequest',
    id: 'sr-1',
    label: 'Therapy order',
    classes: new Set(classes),
    matchedBy: 'code',
    site,
    siteBasis: 'code',
    siteLabel: undefined,
    authoredOn: undefined,
    resource: { resourceType: 'ServiceRequest', id: 'sr-1' },
  };
}

function cardFor(conditions: ConditionEntry[], procedures: ProcedureEntry[], therapy: OrderEntry): CardId | undefined {
  return decide(derivePatientState(conditions, procedures), therapy)?.cardId;
}

const AFTER = decompression('2024-05-20');
const BEFORE = decompression('2023-01-01');

describe('decide: row 1 (cord or flagged)', () => {
  it.each(['active', 'suspected'] as const)('returns the cord card for %s cord compression, any class and any site', (status) => {
    for (const cls of ['MASSAGE', 'MANUAL', 'MANIPULATION'] as const) {
      for (const site of ['cervical', 'unspecified', 'remote'] as const) {
        expect(cardFor([condition(['CORD'], status)], [], order([cls], site))).toBe('cord-compression-manual-therapy');
      }
    }
  });

  it('returns the cord card for an untreated CORD even when a STENOSIS is treated', () => {
    expect(cardFor([condition(['CORD'], 'active', '2025-01-01'), condition(['STENOSIS'])], [AFTER], order(['MASSAGE']))).toBe('cord-compression-manual-therapy');
  });

  it.each([
    ['an active red flag with radiculopathy', [condition(['RED_FLAG']), condition(['RADICULOPATHY'])]],
    ['a suspected red flag with stenosis', [condition(['RED_FLAG'], 'suspected'), condition(['STENOSIS'])]],
    ['a red flag with a historical radiculopathy', [condition(['RED_FLAG']), condition(['RADICULOPATHY'], 'historical')]],
    ['a red flag with a historical stenosis', [condition(['RED_FLAG']), condition(['STENOSIS'], 'historical')]],
  ])('returns the cord card for %s', (_name, conditions) => {
    expect(cardFor(conditions, [], order(['MASSAGE'], 'remote'))).toBe('cord-compression-manual-therapy');
  });

  it('returns the cord card for a red flag with a stenosis treated by decompression', () => {
    expect(cardFor([condition(['RED_FLAG']), condition(['STENOSIS'])], [AFTER], order(['MASSAGE']))).toBe('cord-compression-manual-therapy');
  });

  it.each([
    ['a red flag alone', [condition(['RED_FLAG'])]],
    ['a historical red flag with radiculopathy', [condition(['RED_FLAG'], 'historical'), condition(['RADICULOPATHY'])]],
    ['a red flag with an ignored radiculopathy', [condition(['RED_FLAG']), condition(['RADICULOPATHY'], 'ignored')]],
    ['an ignored red flag with radiculopathy', [condition(['RED_FLAG'], 'ignored'), condition(['RADICULOPATHY'])]],
    ['radiculopathy alone', [condition(['RADICULOPATHY'])]],
    ['malignancy alone', [condition(['MALIGNANT'])]],
    ['an ignored cord compression', [condition(['CORD'], 'ignored')]],
    ['nothing', []],
  ])('returns no card for %s', (_name, conditions) => {
    expect(cardFor(conditions, [], order(['MASSAGE']))).toBeUndefined();
  });
});

describe('decide: rows 2–4 (stenosis not treated)', () => {
  it.each([
    [['MANIPULATION'], 'cervical', 'cervical-stenosis-manipulation'],
    [['MANIPULATION'], 'unspecified', 'cervical-stenosis-manipulation'],
    [['MASSAGE', 'MANIPULATION'], 'cervical', 'cervical-stenosis-manipulation'],
    [['MASSAGE'], 'cervical', 'cervical-stenosis-massage'],
    [['MANUAL'], 'unspecified', 'cervical-stenosis-massage'],
    [['MASSAGE'], 'remote', 'cervical-stenosis-remote-site'],
    [['MANUAL'], 'remote', 'cervical-stenosis-remote-site'],
    [['MANIPULATION'], 'remote', 'cervical-stenosis-remote-site'],
  ] as const)('returns for %s at a %s site: %s', (classes, site, cardId) => {
    expect(cardFor([condition(['STENOSIS'])], [], order([...classes], site))).toBe(cardId);
  });

  it.each(['active', 'suspected', 'historical'] as const)('counts a %s stenosis', (status) => {
    expect(cardFor([condition(['STENOSIS'], status)], [], order(['MASSAGE']))).toBe('cervical-stenosis-massage');
  });

  it.each([
    ['a decompression before onset', [BEFORE]],
    ['an undated decompression', [decompression(undefined)]],
    ['a decompression not completed', [decompression('2024-05-20', false)]],
  ])('keeps the stenosis untreated with %s', (_name, procedures) => {
    expect(cardFor([condition(['STENOSIS'])], procedures, order(['MASSAGE']))).toBe('cervical-stenosis-massage');
  });

  it('applies rows 2–4 when one stenosis is untreated and another treated', () => {
    expect(cardFor([condition(['STENOSIS'], 'active', '2024-01-01'), condition(['STENOSIS'], 'active', '2025-01-01')], [AFTER], order(['MASSAGE']))).toBe('cervical-stenosis-massage');
  });

  it('applies rows 2–4 when a historical cord is treated but a stenosis is not', () => {
    expect(cardFor([condition(['CORD'], 'historical'), condition(['STENOSIS'])], [], order(['MANIPULATION']))).toBe('cervical-stenosis-manipulation');
  });

  it('ignores an ignored stenosis', () => {
    expect(cardFor([condition(['STENOSIS'], 'ignored')], [], order(['MASSAGE']))).toBeUndefined();
  });
});

describe('decide: row 5 (everything treated)', () => {
  it.each([
    ['a decompressed stenosis', [condition(['STENOSIS'])], [AFTER]],
    ['a decompressed historical stenosis', [condition(['STENOSIS'], 'historical')], [AFTER]],
    ['a decompressed cord compression', [condition(['CORD'])], [AFTER]],
    ['a historical cord compression', [condition(['CORD'], 'historical')], []],
    ['a decompressed cord compression and stenosis', [condition(['CORD']), condition(['STENOSIS'], 'active', '2023-12-01')], [AFTER]],
    ['a decompressed stenosis with a radiculopathy and no red flag', [condition(['STENOSIS']), condition(['RADICULOPATHY'])], [AFTER]],
  ])('returns the clearance card for %s, at any site', (_name, conditions, procedures) => {
    for (const site of ['cervical', 'unspecified', 'remote'] as const) {
      expect(cardFor(conditions, procedures, order(['MANIPULATION'], site))).toBe('post-decompression-clearance');
    }
  });

  it('returns no card for a decompression with no cord or stenosis condition', () => {
    expect(cardFor([condition(['RADICULOPATHY'])], [AFTER], order(['MASSAGE']))).toBeUndefined();
    expect(cardFor([], [AFTER], order(['MASSAGE']))).toBeUndefined();
  });
});

describe('decide: orders', () => {
  it('returns no card for an order with no conflicting class', () => {
    expect(cardFor([condition(['CORD'])], [], order([]))).toBeUndefined();
  });
});
