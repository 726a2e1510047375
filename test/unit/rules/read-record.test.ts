/**
 * clinical-policy §1 "Codes" and text matching, §2 classes and §3 orders, read one resource at a
 * time (readCondition, readProcedure, readOrder) with the real knowledge files.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { KnowledgeClass } from '../../../src/knowledge/classes.js';
import { loadKnowledge, type Knowledge } from '../../../src/knowledge/load-knowledge.js';
import { readOrder } from '../../../src/rules/order.js';
import { readCondition, readProcedure, type ConditionStatus } from '../../../src/rules/record.js';

const TODAY = '2026-11-24';
const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const SCT = 'http://snomed.info/sct';
const CPT = 'http://www.ama-assn.org/go/cpt';

let knowledge: Knowledge;
beforeAll(() => {
  knowledge = loadKnowledge();
});

const codedCondition = (system: string, code: string, display?: string) => ({
  resourceType: 'Condition',
  code: { coding: [{ system, code, ...(display ? { display } : {}) }] },
});
const textCondition = (text: string) => ({ resourceType: 'Condition', code: { text } });

function read(resource: Record<string, unknown>): { classes: KnowledgeClass[]; status: ConditionStatus | undefined } {
  const entry = readCondition(resource, knowledge, TODAY);
  return { classes: entry ? [...entry.classes].sort() : [], status: entry?.status };
}

describe('readCondition: codes', () => {
  it.each([
    ['M48.02', 'STENOSIS'],
    ['M4802', 'STENOSIS'],
    ['m48.02', 'STENOSIS'],
    ['m4802', 'STENOSIS'],
    ['M48.00', 'STENOSIS'],
    ['G95.20', 'CORD'],
    ['M47.12', 'CORD'],
    ['M50.021', 'CORD'],
    ['G83.4', 'CORD'],
    ['M54.12', 'RADICULOPATHY'],
    ['M50.121', 'RADICULOPATHY'],
    ['G54.2', 'RADICULOPATHY'],
    ['R33.9', 'RED_FLAG'],
    ['N31.9', 'RED_FLAG'],
    ['R15.9', 'RED_FLAG'],
    ['R26.89', 'RED_FLAG'],
    ['r2681', 'RED_FLAG'],
    ['N39.42', 'RED_FLAG'],
    ['R20.0', 'RED_FLAG'],
    ['R29.2', 'RED_FLAG'],
    ['C79.51', 'MALIGNANT'],
    ['C50.911', 'MALIGNANT'],
    ['C96.9', 'MALIGNANT'],
    ['C7B.03', 'MALIGNANT'],
    ['C7A.00', 'MALIGNANT'],
    ['C4A.4', 'MALIGNANT'],
  ])('classifies ICD-10-CM %s as %s', (code, cls) => {
    expect(read(codedCondition(ICD, code)).classes).toContain(cls);
  });

  it.each([
    ['83561009', 'STENOSIS'],
    ['76107001', 'STENOSIS'],
    ['65260001', 'CORD'],
    ['192907007', 'CORD'],
    ['75467001', 'CORD'],
    ['202757008', 'RADICULOPATHY'],
    ['22325002', 'RED_FLAG'],
    ['267064002', 'RED_FLAG'],
    ['312444006', 'RED_FLAG'],
  ])('classifies SNOMED %s as %s', (code, cls) => {
    expect(read(codedCondition(SCT, code)).classes).toContain(cls);
  });

  it.each([
    ['M48.061', ICD],
    ['M48.04', ICD],
    ['M54.2', ICD],
    ['M62.830', ICD],
    ['R25.2', ICD],
    ['R53.1', ICD],
    ['M62.81', ICD],
    ['R20.2', ICD],
    ['18347007', SCT],
    ['41341006', SCT],
    ['26544005', SCT],
    ['91019004', SCT],
  ])('gives the recognised %s no triggering class, whatever its display says', (code, system) => {
    const { classes } = read(codedCondition(system, code, 'Cervical myelopathy'));
    for (const cls of ['CORD', 'STENOSIS', 'RADICULOPATHY', 'RED_FLAG', 'MALIGNANT'] as const) expect(classes).not.toContain(cls);
  });

  it('gives a code outside every value set no class (D49.2, neoplasm of unspecified behaviour)', () => {
    expect(read(codedCondition(ICD, 'D49.2')).classes).toEqual([]);
  });

  it('compares code systems exactly: ICD-10-CM codes under another system are not recognised', () => {
    expect(read(codedCondition('http://hl7.org/fhir/sid/icd-10', 'M48.02')).classes).toEqual([]);
    expect(read(codedCondition('urn:oid:2.16.840.1.113883.6.9', 'G95.20')).classes).toEqual([]);
  });

  it('reads the OID forms of ICD-10-CM and SNOMED CT as those systems', () => {
    expect(read(codedCondition('urn:oid:2.16.840.1.113883.6.90', 'G95.20')).classes).toEqual(['CORD']);
    expect(read(codedCondition('urn:oid:2.16.840.1.113883.6.90', 'M4802')).classes).toEqual(['STENOSIS']);
    expect(read(codedCondition('urn:oid:2.16.840.1.113883.6.96', '83561009')).classes).toEqual(['STENOSIS']);
  });

  it('reads N88.2 (stenosis of the uterine cervix) as a not-trigger, coded or as text', () => {
    expect(read(codedCondition('http://hl7.org/fhir/sid/icd-10-cm', 'N88.2', 'Cervical stenosis (uterine)')).classes).toEqual(['NOT_TRIGGER']);
    expect(read({ ...codedCondition('urn:local', 'X1'), code: { text: 'Cervical stenosis (uterine)' } }).classes).toEqual([]);
  });

  it('reads the display of an unrecognised coding as text', () => {
    expect(read(codedCondition('http://hl7.org/fhir/sid/icd-10', 'G99.2', 'Cervical myelopathy')).classes).toEqual(['CORD']);
    expect(read(codedCondition('urn:oid:1.2.3.4', 'L-1', 'Cervical spinal stenosis')).classes).toEqual(['STENOSIS']);
  });

  it('prefers code.text over the displays of unrecognised codings', () => {
    const resource = { resourceType: 'Condition', code: { coding: [{ system: 'urn:oid:1.2.3.4', code: 'L-1', display: 'Cervical myelopathy' }], text: 'Neck pain' } };
    expect(read(resource).classes).toEqual([]);
  });

  it('decides by a recognised coding and not by the text', () => {
    const resource = { resourceType: 'Condition', code: { coding: [{ system: ICD, code: 'M48.061' }], text: 'Cervical myelopathy' } };
    expect(read(resource).classes).not.toContain('CORD');
  });

  it('keeps the recognised codings as sent, and only those, for the card to name', () => {
    const resource = {
      resourceType: 'Condition',
      code: { coding: [{ system: 'urn:local', code: 'L-1', display: 'Neck' }, { system: ICD, code: 'M48.02', display: 'Spinal stenosis, cervical region' }, { system: ICD, code: 'M48.02' }] },
    };
    expect(readCondition(resource, knowledge, TODAY)?.codings).toEqual([
      { system: ICD, code: 'M48.02', display: 'Spinal stenosis, cervical region' },
      { system: ICD, code: 'M48.02', display: undefined },
    ]);
  });

  it('reads only codings that are objects in a list, and nothing from a bare code string', () => {
    expect(read({ resourceType: 'Condition', code: { coding: [null, 'M48.02', { system: ICD, code: 'M48.02' }] } }).classes).toEqual(['STENOSIS']);
    expect(read({ resourceType: 'Condition', code: { coding: { system: ICD, code: 'M48.02' } } }).classes).toEqual([]);
    expect(read({ resourceType: 'Condition', code: { coding: [{ system: ICD, code: ' ' }, { system: ' ', code: 'M48.02', display: 'Cervical myelopathy' }] } }).classes).toEqual(['CORD']);
    expect(read({ resourceType: 'Condition', code: 'cervical stenosis' }).classes).toEqual([]);
  });
});

describe('readCondition: text', () => {
  it.each([
    ['Cervical spinal stenosis', ['STENOSIS']],
    ['Canal stenosis C5-C6', ['STENOSIS']],
    ['Neck stenosis', ['STENOSIS']],
    ['Spinal stenosis', []],
    ['Lumbar stenosis', []],
    ['Spinal stenosis, cervical region', ['STENOSIS']],
    ['Spinal stenosis, lumbar region', []],
    ['Stricture and stenosis of cervix uteri', []],
    ['Family history of cervical stenosis', []],
    ['Cervical radiculopathy', ['RADICULOPATHY']],
    ['Radiculopathy C6', ['RADICULOPATHY']],
    ['Lumbar radiculopathy', []],
    ['Cord compression', ['CORD']],
    ['Cervical MYELOPATHY', ['CORD']],
    ['Cauda equina syndrome', ['CORD']],
    ['Urinary retention', ['RED_FLAG']],
    ['Saddle anesthesia', ['RED_FLAG']],
    ['Saddle anaesthesia', ['RED_FLAG']],
    ['Unsteady gait', ['RED_FLAG']],
    ['Gait disturbances', ['RED_FLAG']],
    ['Progressive weakness of both hands', ['RED_FLAG']],
    ['Bowel incontinence', ['RED_FLAG']],
    ['Bladder dysfunction', ['RED_FLAG']],
    ['Metastatic breast cancer', ['MALIGNANT']],
    ['Malignant melanoma', ['MALIGNANT']],
    ['Weakness', []],
    ['Muscle spasm of the neck', []],
    ['Chronic low back pain', []],
    ['Fibromyalgia', []],
    ['Myelopathic hand', []],
  ])('reads "%s" as %p', (text, classes) => {
    expect(read(textCondition(text)).classes).toEqual(classes);
  });

  it.each([
    'No evidence of cord compression',
    'No cord compression',
    'Not myelopathy',
    'Cervical spine without myelopathy',
    'Negative for cord compression',
    'Patient denies urinary retention',
    'Ruled out: myelopathy',
    'Excluded cord compression',
    'Myelopathy ruled out',
    'Cord compression excluded',
    'Cord compression negative on MRI',
    'Negative for cervical stenosis',
    'No cervical stenosis',
  ])('does not match a negated phrase: "%s"', (text) => {
    expect(read(textCondition(text)).classes).toEqual([]);
  });

  it.each([
    ['Cervical stenosis C5-C6, no myelopathy', ['STENOSIS']],
    ['No myelopathy; cervical stenosis C4-C5', ['STENOSIS']],
    ['Myelopathy ruled out. Cervical stenosis', ['STENOSIS']],
    ['Cervical radiculopathy without myelopathy', ['RADICULOPATHY']],
  ])('keeps the negation inside its clause: "%s" → %p', (text, classes) => {
    expect(read(textCondition(text)).classes).toEqual(classes);
  });

  it.each(['r/o cord compression', 'R/O myelopathy', 'Rule out cord compression', 'Possible myelopathy', 'Suspected cauda equina', 'Query cord compression', '? myelopathy', 'Cord compression?', 'cord compression ?'])(
    'reads "%s" as a suspected CORD condition',
    (text) => {
      expect(read(textCondition(text))).toEqual({ classes: ['CORD'], status: 'suspected' });
    },
  );

  it('reads an unqualified phrase as active', () => {
    expect(read(textCondition('Cervical myelopathy'))).toEqual({ classes: ['CORD'], status: 'active' });
  });

  it('keeps a suspicion cue inside its clause', () => {
    expect(read(textCondition('Possible fracture, myelopathy')).status).toBe('active');
  });
});

describe('readCondition: statuses as FHIR writes them', () => {
  const stenosis = (fields: Record<string, unknown>) => ({ ...codedCondition(ICD, 'M48.02'), ...fields });

  it.each([
    [{ clinicalStatus: 'resolved' }, 'historical'],
    [{ clinicalStatus: 'Resolved' }, 'active'],
    [{ clinicalStatus: 'RESOLVED' }, 'active'],
    [{ verificationStatus: 'entered-in-error' }, undefined],
    [{ verificationStatus: 'ENTERED IN ERROR' }, 'active'],
    [{ verificationStatus: 'Entered-In-Error' }, 'active'],
    [{ verificationStatus: 'refuted' }, undefined],
    [{ verificationStatus: 'Refuted' }, 'active'],
    [{ verificationStatus: 'provisional' }, 'suspected'],
    [{ clinicalStatus: { coding: [{ code: 'Inactive' }] } }, 'active'],
    [{ clinicalStatus: { coding: [{ code: 'inactive' }] } }, 'historical'],
    [{ clinicalStatus: { text: 'resolved' } }, 'active'],
    [{ verificationStatus: { text: 'entered-in-error' } }, 'active'],
  ])('reads %p as %p', (fields, status) => {
    const entry = readCondition(stenosis(fields), knowledge, TODAY);
    expect(entry === undefined ? undefined : entry.status === 'ignored' ? undefined : entry.status).toBe(status);
  });

  it('reads abatementBoolean true as a past abatement and false as none', () => {
    expect(read(stenosis({ abatementBoolean: true })).status).toBe('historical');
    expect(read(stenosis({ abatementBoolean: false })).status).toBe('active');
    expect(read(stenosis({ clinicalStatus: 'active', abatementBoolean: true })).status).toBe('active');
  });
});

describe('readProcedure', () => {
  const procedure = (code: Record<string, unknown>, status = 'completed') => ({ resourceType: 'Procedure', status, code, performedDateTime: '2024-05-20' });

  it.each([
    [{ coding: [{ system: CPT, code: '63045' }] }],
    [{ coding: [{ system: CPT, code: '22551' }] }],
    [{ coding: [{ system: SCT, code: '445429009' }] }],
    [{ coding: [{ system: SCT, code: '283165009' }] }],
    [{ text: 'ACDF C5-C6' }],
    [{ text: 'Anterior cervical discectomy and fusion' }],
    [{ text: 'Cervical laminoplasty' }],
    [{ text: 'Laminectomy C4-C6' }],
    [{ text: 'Decompression of the neck' }],
    [{ text: 'Corpectomy C5' }],
  ])('reads %p as a cervical decompression', (code) => {
    const entry = readProcedure(procedure(code), knowledge);
    expect(entry?.classes.has('DECOMPRESSED')).toBe(true);
    expect(entry?.completed).toBe(true);
    expect(entry?.performed?.earliest).toBe('2024-05-20');
  });

  it.each([
    [{ text: 'Lumbar laminectomy L4-L5' }],
    [{ text: 'Decompression of the carpal tunnel' }],
    [{ coding: [{ system: SCT, code: '427752004', display: 'Excision of lamina of lumbar vertebra for decompression of spinal cord' }] }],
    [{ coding: [{ system: CPT, code: '97110' }] }],
  ])('does not read %p as a cervical decompression', (code) => {
    expect(readProcedure(procedure(code), knowledge)?.classes.has('DECOMPRESSED') ?? false).toBe(false);
  });

  it('reads a procedure status exactly: "Completed" is no status', () => {
    expect(readProcedure(procedure({ coding: [{ system: CPT, code: '63045' }] }, 'Completed'), knowledge)?.completed).toBe(false);
  });

  it('marks a decompression that is not completed', () => {
    expect(readProcedure(procedure({ coding: [{ system: CPT, code: '63045' }] }, 'in-progress'), knowledge)?.completed).toBe(false);
  });

  it('dates a procedure by performedPeriod.start when there is no performedDateTime', () => {
    const resource = { resourceType: 'Procedure', status: 'completed', code: { text: 'ACDF' }, performedPeriod: { start: '2024-05', end: '2024-06-02' } };
    expect(readProcedure(resource, knowledge)?.performed?.earliest).toBe('2024-05-01');
  });
});

describe('readOrder', () => {
  const serviceRequest = (code: unknown, extra: Record<string, unknown> = {}) => ({ resourceType: 'ServiceRequest', id: 'sr-1', status: 'draft', code, ...extra });
  const classesOf = (resource: Record<string, unknown>) => {
    const entry = readOrder(resource, knowledge);
    return entry ? [...entry.classes].sort() : [];
  };

  it.each([
    [{ coding: [{ system: CPT, code: '97124' }] }, ['MASSAGE']],
    [{ coding: [{ system: SCT, code: '387854002' }] }, ['MASSAGE']],
    [{ coding: [{ system: CPT, code: '97140' }] }, ['MANUAL']],
    [{ coding: [{ system: CPT, code: '98943' }] }, ['MANUAL']],
    [{ coding: [{ system: CPT, code: '98940' }] }, ['MANIPULATION']],
    [{ coding: [{ system: CPT, code: '98929' }] }, ['MANIPULATION']],
    [{ coding: [{ system: SCT, code: '46947000' }] }, ['MANIPULATION']],
    [{ coding: [{ system: SCT, code: '308449000' }] }, ['MANIPULATION']],
    [{ coding: [{ system: SCT, code: '308450000' }] }, ['MANIPULATION']],
    [{ text: 'Soft tissue massage' }, ['MASSAGE']],
    [{ text: 'Massages' }, ['MASSAGE']],
    [{ text: 'Myofascial release' }, ['MANUAL']],
    [{ text: 'Manual traction' }, ['MANUAL']],
    [{ text: 'Joint mobilization' }, ['MANUAL']],
    [{ text: 'Cervical manipulation' }, ['MANIPULATION']],
    [{ text: 'Spinal manipulation' }, ['MANIPULATION']],
    [{ text: 'Osteopathic manipulation' }, ['MANIPULATION']],
    [{ text: 'Chiropractic adjustment' }, ['MANIPULATION']],
    [{ text: 'HVLA thrust' }, ['MANIPULATION']],
    [{ text: 'Manipulation under anaesthesia of shoulder' }, ['MANIPULATION']],
    [{ coding: [{ system: 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code: 'E0855', display: 'Manual traction' }] }, ['MANUAL']],
    [{ coding: [{ system: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code: 'E0855', display: 'Manual traction' }] }, ['MANUAL']],
  ])('reads %p as %p', (code, classes) => {
    expect(classesOf(serviceRequest(code))).toEqual(classes);
  });

  it.each([
    [{ coding: [{ system: CPT, code: '97110' }], text: 'Neck massage' }],
    [{ coding: [{ system: CPT, code: '97112' }] }],
    [{ coding: [{ system: CPT, code: '97161' }] }],
    [{ coding: [{ system: CPT, code: '97163' }] }],
    [{ coding: [{ system: SCT, code: '308447003' }] }],
    [{ text: 'Therapeutic exercise' }],
    [{ text: 'Therapeutic exercise, no massage' }],
    [{ coding: [{}] }],
    [{}],
    [undefined],
  ])('reads %p as no conflicting order', (code) => {
    expect(classesOf(serviceRequest(code))).toEqual([]);
  });

  it.each(['completed', 'revoked', 'entered-in-error'])('skips a %s order', (status) => {
    expect(readOrder(serviceRequest({ coding: [{ system: CPT, code: '97124' }] }, { status }), knowledge)).toBeUndefined();
  });

  it.each(['draft', 'active', 'on-hold', 'unknown', 'Completed', 'REVOKED', 'Entered-in-error'])('reads a %s order', (status) => {
    expect(readOrder(serviceRequest({ coding: [{ system: CPT, code: '97124' }] }, { status }), knowledge)).toBeDefined();
  });

  it('skips a MedicationRequest', () => {
    const medication = { resourceType: 'MedicationRequest', id: 'mr-1', status: 'draft', code: { text: 'massage' }, medicationCodeableConcept: { text: 'Massage oil' } };
    expect(readOrder(medication, knowledge)).toBeUndefined();
  });
});
