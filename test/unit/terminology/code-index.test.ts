import { describe, expect, it } from '@jest/globals';
import { loadKnowledge } from '../../../src/knowledge/load-knowledge.js';
import { CodeIndex, normaliseCode } from '../../../src/terminology/code-index.js';

const { codes } = loadKnowledge();
const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const SCT = 'http://snomed.info/sct';
const CPT = 'http://www.ama-assn.org/go/cpt';

describe('code index (clinical policy §1-§3)', () => {
  it('matches ICD-10-CM with or without the dot, in any case', () => {
    expect(codes.lookup(ICD, 'M48.02')?.classes).toEqual(['STENOSIS']);
    expect(codes.lookup(ICD, 'M4802')?.classes).toEqual(['STENOSIS']);
    expect(codes.lookup(ICD, 'm48.02')?.classes).toEqual(['STENOSIS']);
  });

  it('compares systems exactly, apart from the aliases the policy names', () => {
    expect(codes.lookup(SCT, 'M48.02')).toBeUndefined();
    expect(codes.lookup('urn:oid:2.16.840.1.113883.6.9', 'M48.02')).toBeUndefined();
    expect(codes.lookup('http://hl7.org/fhir/sid/icd-10', 'M48.02')).toBeUndefined();
  });

  it.each([
    ['urn:oid:2.16.840.1.113883.6.90', 'M48.02', 'STENOSIS'],
    ['urn:oid:2.16.840.1.113883.6.90', 'M4802', 'STENOSIS'],
    ['urn:oid:2.16.840.1.113883.6.96', '83561009', 'STENOSIS'],
    ['urn:oid:2.16.840.1.113883.6.12', '97124', 'MASSAGE'],
  ])('reads system %s code %s as the URI form (class %s)', (system, code, cls) => {
    expect(codes.lookup(system, code)?.classes).toContain(cls);
  });

  it('reads the HCPCS spellings as one system', () => {
    const index = new CodeIndex(new Map([['https://hcpcs.example', 'http://hcpcs.example'], ['urn:oid:9.9', 'http://hcpcs.example']]));
    index.addConcept('http://hcpcs.example', 'E0855', 'MANUAL', false);
    expect(index.lookup('https://hcpcs.example', 'e0855')?.classes).toEqual(['MANUAL']);
    expect(index.lookup('urn:oid:9.9', 'E0855')?.classes).toEqual(['MANUAL']);
    expect(index.lookup('urn:oid:9.8', 'E0855')).toBeUndefined();
  });

  it('answers alike when asked again, recognised or not, and forgets its answers when the knowledge grows', () => {
    const index = new CodeIndex();
    index.addConcept(ICD, 'M48.02', 'STENOSIS', false);
    for (let asked = 0; asked < 2; asked += 1) {
      expect(index.lookup(ICD, 'M48.02')?.classes).toEqual(['STENOSIS']);
      expect(index.lookup(ICD, 'E11.9')).toBeUndefined();
    }
    index.addConcept(ICD, 'E11.9', 'NOT_TRIGGER', false);
    expect(index.lookup(ICD, 'E11.9')?.classes).toEqual(['NOT_TRIGGER']);
  });

  it('flags stenosis codes without a region', () => {
    expect(codes.lookup(ICD, 'M48.00')?.regionUnknown).toBe(true);
    expect(codes.lookup(SCT, '76107001')?.regionUnknown).toBe(true);
    expect(codes.lookup(ICD, 'M48.02')?.regionUnknown).toBe(false);
  });

  it.each([
    ['N31.9', 'RED_FLAG'],
    ['R33.9', 'RED_FLAG'],
    ['R15.0', 'RED_FLAG'],
    ['R26.81', 'RED_FLAG'],
    ['C50.911', 'MALIGNANT'],
    ['C96.9', 'MALIGNANT'],
    ['C79.51', 'MALIGNANT'],
    ['G83.4', 'CORD'],
    ['M50.022', 'CORD'],
    ['M50.122', 'RADICULOPATHY'],
  ])('puts %s in %s', (code, cls) => {
    expect(codes.lookup(ICD, code)?.classes).toContain(cls);
  });

  it('does not stretch code families past the policy', () => {
    expect(codes.lookup(ICD, 'C97')).toBeUndefined();
    expect(codes.lookup(ICD, 'D49.2')).toBeUndefined();
    expect(codes.lookup(ICD, 'R20.2')?.classes).toEqual(['NOT_TRIGGER']);
    expect(codes.lookup(ICD, 'R53.1')?.classes).toEqual(['NOT_TRIGGER']);
  });

  it('recognises non-triggers, non-conflicts and body sites, so their text is not read', () => {
    expect(codes.lookup(ICD, 'M48.061')?.classes).toEqual(['NOT_TRIGGER']);
    expect(codes.lookup(CPT, '97110')?.classes).toEqual(['NOT_CONFLICT']);
    expect(codes.lookup(SCT, '122494005')?.classes).toEqual(['SITE_CERVICAL']);
    expect(codes.lookup(SCT, '122496007')?.classes).toEqual(['SITE_REMOTE']);
  });

  it('classifies therapy codes', () => {
    expect(codes.lookup(CPT, '97124')?.classes).toEqual(['MASSAGE']);
    expect(codes.lookup(CPT, '98943')?.classes).toEqual(['MANUAL']);
    expect(codes.lookup(CPT, '98927')?.classes).toEqual(['MANIPULATION']);
    expect(codes.lookup(SCT, '308450000')?.classes).toEqual(['MANIPULATION']);
  });

  it('normalises only ICD-10-CM dots', () => {
    expect(normaliseCode(ICD, ' m48.02 ')).toBe('M4802');
    expect(normaliseCode('http://loinc.org', '24935-9')).toBe('24935-9');
  });
});
