/** clinical-policy §2 "treated": decompression on or after onset, partial dates, historical CORD. */
import { describe, expect, it } from '@jest/globals';
import type { KnowledgeClass } from '../../../src/knowledge/classes.js';
import { isTreated } from '../../../src/rules/patient-state.js';
import type { ConditionEntry, ConditionStatus } from '../../../src/rules/record.js';
import { conditionEntry, decompressionEntry as decompression } from '../../helpers/record-entries.js';

const condition = (cls: KnowledgeClass, onset: string | undefined, status: ConditionStatus = 'active'): ConditionEntry =>
  conditionEntry([cls], { status, onset });



describe('isTreated', () => {
  it('judges a condition in both classes per class: a historical one is a treated CORD, an untreated STENOSIS', () => {
    const both = conditionEntry(['CORD', 'STENOSIS'], { status: 'historical', onset: '2024-03-10' });
    expect(isTreated(both, 'CORD', [])).toBe(true);
    expect(isTreated(both, 'STENOSIS', [])).toBe(false);
    expect(isTreated(both, 'STENOSIS', [decompression('2024-05-20')])).toBe(true);
  });

  it.each([
    ['after the onset', '2024-03-10', '2024-05-20', true],
    ['on the day of onset', '2024-03-10', '2024-03-10', true],
    ['on the day of onset, times and zones ignored', '2024-03-10T23:30:00-05:00', '2024-03-10T02:00:00Z', true],
    ['before the onset', '2024-03-10', '2023-11-02', false],
    ['within a month-only onset (onset counts as the 31st)', '2024-03', '2024-03-15', false],
    ['on the last day of a month-only onset', '2024-03', '2024-03-31', true],
    ['in the month after a month-only onset', '2024-03', '2024-04-01', true],
    ['in the month of onset, given as a month (counts as the 1st)', '2024-03-10', '2024-03', false],
    ['in a year-only procedure after a year-only onset', '2023', '2024', true],
    ['in the same year, both year-only', '2024', '2024', false],
    ['in February of a leap year after a month-only onset', '2024-02', '2024-02-29', true],
  ])('counts a decompression %s: %s vs %s → %s', (_name, onset, performed, treated) => {
    expect(isTreated(condition('STENOSIS', onset), 'STENOSIS', [decompression(performed)])).toBe(treated);
    expect(isTreated(condition('CORD', onset), 'CORD', [decompression(performed)])).toBe(treated);
  });

  it('does not treat a condition without an onset date', () => {
    expect(isTreated(condition('STENOSIS', undefined), 'STENOSIS', [decompression('2024-05-20')])).toBe(false);
  });

  it('does not treat a condition with an undated decompression', () => {
    expect(isTreated(condition('STENOSIS', '2024-03-10'), 'STENOSIS', [decompression(undefined)])).toBe(false);
  });

  it('does not treat a condition with no decompression at all', () => {
    expect(isTreated(condition('STENOSIS', '2024-03-10'), 'STENOSIS', [])).toBe(false);
  });

  it('treats when any one of several decompressions is dated after the onset', () => {
    expect(isTreated(condition('STENOSIS', '2024-03-10'), 'STENOSIS', [decompression('2023-01-01'), decompression(undefined), decompression('2024-06-01')])).toBe(true);
  });

  it('counts a historical CORD condition as treated, with no decompression and no dates', () => {
    expect(isTreated(condition('CORD', undefined, 'historical'), 'CORD', [])).toBe(true);
  });

  it('does not count a historical STENOSIS as treated without a decompression after it', () => {
    expect(isTreated(condition('STENOSIS', '2024-03-10', 'historical'), 'STENOSIS', [])).toBe(false);
    expect(isTreated(condition('STENOSIS', '2024-03-10', 'historical'), 'STENOSIS', [decompression('2023-01-01')])).toBe(false);
  });

  it('treats a historical STENOSIS with a decompression after its onset', () => {
    expect(isTreated(condition('STENOSIS', '2024-03-10', 'historical'), 'STENOSIS', [decompression('2024-05-20')])).toBe(true);
  });
});
