/** clinical-policy §2 derived facts and §4 decision table, over hand-built record entries. */
import { describe, expect, it } from '@jest/globals';
import type { ConflictClass, KnowledgeClass, Site } from '../../../src/knowledge/classes.js';
import { decide, type PolicyRow } from '../../../src/rules/decide.js';
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
    codings: [],
    classes: new Set(classes),
    matchedBy: 'code',
    site,
    siteBasis: 'code',
    siteLabel: undefined,
    authoredOn: undefined,
    resource: { resourceType: 'ServiceRequest', id: 'sr-1' },
  };
}

function rowFor(conditions: ConditionEntry[], procedures: ProcedureEntry[], therapy: OrderEntry): PolicyRow | undefined {
  return decide(derivePatientState(conditions, procedures), therapy)?.row;
}

const AFTER = decompression('2024-05-20');
const BEFORE = decompression('2023-01-01');

describe('decide: row 1 (cord or flagged)', () => {
  it.each(['active', 'suspected'] as const)('returns row 1 for %s cord compression, any class and any site', (status) => {
    for (const cls of ['MASSAGE', 'MANUAL', 'MANIPULATION'] as const) {
      for (const site of ['cervical', 'unspecified', 'remote'] as const) {
        expect(rowFor([condition(['CORD'], status)], [], order([cls], site))).toBe(1);
      }
    }
  });

  it('returns row 1 for an untreated CORD even when a STENOSIS is treated', () => {
    expect(rowFor([condition(['CORD'], 'active', '2025-01-01'), condition(['STENOSIS'])], [AFTER], order(['MASSAGE']))).toBe(1);
  });

  it.each([
    ['an active red flag with radiculopathy', [condition(['RED_FLAG']), condition(['RADICULOPATHY'])]],
    ['a suspected red flag with stenosis', [condition(['RED_FLAG'], 'suspected'), condition(['STENOSIS'])]],
    ['a red flag with a historical radiculopathy', [condition(['RED_FLAG']), condition(['RADICULOPATHY'], 'historical')]],
    ['a red flag with a historical stenosis', [condition(['RED_FLAG']), condition(['STENOSIS'], 'historical')]],
  ])('returns row 1 for %s', (_name, conditions) => {
    expect(rowFor(conditions, [], order(['MASSAGE'], 'remote'))).toBe(1);
  });

  it('returns row 1 for a red flag with a stenosis treated by decompression', () => {
    expect(rowFor([condition(['RED_FLAG']), condition(['STENOSIS'])], [AFTER], order(['MASSAGE']))).toBe(1);
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
  ])('returns no row for %s', (_name, conditions) => {
    expect(rowFor(conditions, [], order(['MASSAGE']))).toBeUndefined();
  });
});

describe('decide: rows 2–4 (stenosis not treated)', () => {
  it.each([
    [['MANIPULATION'], 'cervical', 2],
    [['MANIPULATION'], 'unspecified', 2],
    [['MASSAGE', 'MANIPULATION'], 'cervical', 2],
    [['MASSAGE'], 'cervical', 3],
    [['MANUAL'], 'unspecified', 3],
    [['MASSAGE'], 'remote', 4],
    [['MANUAL'], 'remote', 4],
    [['MANIPULATION'], 'remote', 4],
  ] as const)('returns for %s at a %s site: %s', (classes, site, cardId) => {
    expect(rowFor([condition(['STENOSIS'])], [], order([...classes], site))).toBe(cardId);
  });

  it.each(['active', 'suspected', 'historical'] as const)('counts a %s stenosis', (status) => {
    expect(rowFor([condition(['STENOSIS'], status)], [], order(['MASSAGE']))).toBe(3);
  });

  it.each([
    ['a decompression before onset', [BEFORE]],
    ['an undated decompression', [decompression(undefined)]],
    ['a decompression not completed', [decompression('2024-05-20', false)]],
  ])('keeps the stenosis untreated with %s', (_name, procedures) => {
    expect(rowFor([condition(['STENOSIS'])], procedures, order(['MASSAGE']))).toBe(3);
  });

  it('applies rows 2–4 when one stenosis is untreated and another treated', () => {
    expect(rowFor([condition(['STENOSIS'], 'active', '2024-01-01'), condition(['STENOSIS'], 'active', '2025-01-01')], [AFTER], order(['MASSAGE']))).toBe(3);
  });

  it('applies rows 2–4 when a historical cord is treated but a stenosis is not', () => {
    expect(rowFor([condition(['CORD'], 'historical'), condition(['STENOSIS'])], [], order(['MANIPULATION']))).toBe(2);
  });

  it('ignores an ignored stenosis', () => {
    expect(rowFor([condition(['STENOSIS'], 'ignored')], [], order(['MASSAGE']))).toBeUndefined();
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
  ])('returns row 5 for %s, at any site', (_name, conditions, procedures) => {
    for (const site of ['cervical', 'unspecified', 'remote'] as const) {
      expect(rowFor(conditions, procedures, order(['MANIPULATION'], site))).toBe(5);
    }
  });

  it('returns no row for a decompression with no cord or stenosis condition', () => {
    expect(rowFor([condition(['RADICULOPATHY'])], [AFTER], order(['MASSAGE']))).toBeUndefined();
    expect(rowFor([], [AFTER], order(['MASSAGE']))).toBeUndefined();
  });
});

describe('decide: orders', () => {
  it('returns no row for an order with no conflicting class', () => {
    expect(rowFor([condition(['CORD'])], [], order([]))).toBeUndefined();
  });
});

describe('decide: the facts the card words (clinical-policy §5)', () => {
  const decisionFor = (conditions: ConditionEntry[], procedures: ProcedureEntry[], therapy: OrderEntry) => decide(derivePatientState(conditions, procedures), therapy);

  it('tells cord compression apart from a red flag with radiculopathy, naming the flag and the radiculopathy', () => {
    const cord = condition(['CORD']);
    expect(decisionFor([cord], [], order(['MASSAGE']))).toMatchObject({ row: 1, variants: [], named: [{ entry: cord, as: 'CORD' }] });
    const flag = condition(['RED_FLAG']);
    const radiculopathy = condition(['RADICULOPATHY']);
    const flagged = decisionFor([radiculopathy, flag], [], order(['MASSAGE']));
    expect(flagged).toMatchObject({ row: 1, variants: ['flagged'], named: [{ entry: flag, as: 'RED_FLAG' }, { entry: radiculopathy, as: 'RADICULOPATHY' }] });
    expect(flagged?.readings).toContain('red-flag-as-cord');
  });

  it('adds the malignant variant and lists the malignant condition among the matched ones', () => {
    const cancer = condition(['MALIGNANT']);
    const decision = decisionFor([condition(['CORD'], 'suspected'), cancer], [], order(['MASSAGE']));
    expect(decision?.variants).toEqual(['malignant']);
    expect(decision?.matched).toContain(cancer);
    expect(decision?.readings).toEqual(['suspected-counts']);
  });

  it('words row 5 for the treatment on record: a dated decompression, or a compression resolved without surgery', () => {
    expect(decisionFor([condition(['STENOSIS'])], [AFTER], order(['MASSAGE']))).toMatchObject({ row: 5, variants: [], procedures: [AFTER] });
    expect(decisionFor([condition(['CORD'], 'historical')], [], order(['MASSAGE']))).toMatchObject({ row: 5, variants: ['resolved-without-surgery'], procedures: [] });
  });

  it('says when rows 2–3 took an order without a body site to include the neck, and row 4 never does', () => {
    const noSite: OrderEntry = { ...order(['MASSAGE'], 'unspecified'), siteBasis: 'absent' };
    expect(decisionFor([condition(['STENOSIS'])], [], noSite)?.readings).toEqual(['site-absent']);
    const history = decisionFor([condition(['STENOSIS'], 'historical')], [], order(['MASSAGE'], 'remote'));
    expect(history).toMatchObject({ row: 4, readings: ['history-of-stenosis'] });
  });
});
