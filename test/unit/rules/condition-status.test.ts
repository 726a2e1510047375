/** clinical-policy §1 "Condition status, decided in this order" (today pinned to 2026-11-24). */
import { describe, expect, it } from '@jest/globals';
import { conditionStatus, type ConditionStatus } from '../../../src/rules/record.js';

const TODAY = '2026-11-24';
const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';

interface StatusFields {
  readonly clinical?: string;
  readonly verification?: string;
  readonly extra?: Record<string, unknown>;
}

function conditionWith({ clinical, verification, extra }: StatusFields): Record<string, unknown> {
  return {
    resourceType: 'Condition',
    ...(clinical ? { clinicalStatus: { coding: [{ system: CLINICAL, code: clinical }] } } : {}),
    ...(verification ? { verificationStatus: { coding: [{ system: VERIFICATION, code: verification }] } } : {}),
    ...extra,
  };
}

function statusOf(fields: StatusFields, textSuspected = false): ConditionStatus {
  return conditionStatus(conditionWith(fields), textSuspected, TODAY).status;
}

describe('conditionStatus', () => {
  it.each([
    ['entered-in-error', { verification: 'entered-in-error' }],
    ['refuted', { verification: 'refuted' }],
    ['refuted even when resolved', { verification: 'refuted', clinical: 'resolved' }],
    ['entered-in-error even when active', { verification: 'entered-in-error', clinical: 'active' }],
  ])('ignores a condition that is %s', (_name, fields) => {
    expect(statusOf(fields)).toBe('ignored');
  });

  it.each(['inactive', 'remission', 'resolved'])('reads clinicalStatus %s as historical', (clinical) => {
    expect(statusOf({ clinical, verification: 'confirmed' })).toBe('historical');
  });

  it.each(['unconfirmed', 'provisional', 'differential'])('lets a historical clinicalStatus win over a %s verification', (verification) => {
    expect(statusOf({ clinical: 'resolved', verification })).toBe('historical');
  });

  it('lets a historical clinicalStatus win over a suspected text ("r/o ...")', () => {
    expect(statusOf({ clinical: 'inactive' }, true)).toBe('historical');
  });

  it.each(['unconfirmed', 'provisional', 'differential'])('reads verificationStatus %s as suspected', (verification) => {
    expect(statusOf({ clinical: 'active', verification })).toBe('suspected');
  });

  it('reads a suspected text as suspected', () => {
    expect(statusOf({ clinical: 'active', verification: 'confirmed' }, true)).toBe('suspected');
  });

  it.each([
    ['active', { clinical: 'active', verification: 'confirmed' }],
    ['recurrence', { clinical: 'recurrence' }],
    ['relapse', { clinical: 'relapse' }],
    ['no status at all', {}],
  ])('reads %s as active', (_name, fields) => {
    expect(statusOf(fields)).toBe('active');
  });

  describe('abatement with no clinicalStatus', () => {
    it.each([
      ['a past abatementDateTime', { abatementDateTime: '2025-02-01' }],
      ['an abatementDateTime of today, whatever its time and zone', { abatementDateTime: '2026-11-24T23:30:00+05:00' }],
      ['a partial abatement whose latest day is past ("2026-10")', { abatementDateTime: '2026-10' }],
      ['a past abatement year ("2025")', { abatementDateTime: '2025' }],
      ['an abatementPeriod that ended', { abatementPeriod: { start: '2024-01-01', end: '2025-01-01' } }],
      ['an abatementPeriod with only a past start', { abatementPeriod: { start: '2025-01-01' } }],
      ['an abatementAge', { abatementAge: { value: 52, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a' } }],
      ['an abatementRange', { abatementRange: { low: { value: 50, unit: 'a' }, high: { value: 55, unit: 'a' } } }],
      ['an abatementString', { abatementString: 'after surgery' }],
    ])('reads %s as historical', (_name, extra) => {
      expect(statusOf({ extra })).toBe('historical');
    });

    it.each([
      ['a future abatementDateTime', { abatementDateTime: '2027-03-01' }],
      ['a partial abatement of this month (counts as 2026-11-30)', { abatementDateTime: '2026-11' }],
      ['a partial abatement of this year (counts as 2026-12-31)', { abatementDateTime: '2026' }],
      ['an abatementPeriod that ends in the future', { abatementPeriod: { start: '2025-01-01', end: '2027-01-15' } }],
    ])('reads %s as not yet abated (active)', (_name, extra) => {
      expect(statusOf({ extra })).toBe('active');
    });

    it('keeps a suspected verification with a future abatement suspected', () => {
      expect(statusOf({ verification: 'provisional', extra: { abatementDateTime: '2027-03-01' } })).toBe('suspected');
    });

    it('lets a past abatement win over a suspected verification', () => {
      expect(statusOf({ verification: 'unconfirmed', extra: { abatementDateTime: '2025-02-01' } })).toBe('historical');
    });
  });

  it('ignores the abatement when a clinicalStatus says active', () => {
    expect(statusOf({ clinical: 'active', extra: { abatementDateTime: '2025-02-01' } })).toBe('active');
  });
});
