/**
 * clinical-policy.md §1–§4 read sentence by sentence, as a table: every coded member of every
 * class in every form clients send it (dotted, undotted, lower case, by OID), every text phrase and
 * cue, the clause rules, every body-site code and word, the dating rules, the row precedence and
 * each hook's scope. Expectations come from the policy text; the policy sentence names each case.
 * Every card returned is also held to §5 (expectCardFollowsPolicy).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import {
  appointment,
  appointmentFor,
  ALL_HOOKS,
  coded,
  condition,
  CPT,
  ICD,
  local,
  OID,
  order,
  ORDER_HOOKS,
  PATIENT,
  procedure,
  requestFor,
  ROW,
  SCT,
  SERVICE_TYPE,
  text,
  without,
  type Json,
  type PatientRecord,
} from './policy-builders.js';
import { buildApp, cardFor, expectCardFollowsPolicy, fixtureOf, ordersOf, parseCards, SERVICE_IDS, type HookName } from './support.js';

interface Case {
  /** The policy sentence the case reads. */
  readonly policy: string;
  readonly name: string;
  readonly hooks: readonly HookName[];
  /** The orders (default: one neck massage, CPT 97124). */
  readonly orders?: readonly Json[];
  readonly record: PatientRecord;
  /** The card ids the policy requires, in the order of the response. */
  readonly cards: readonly string[];
  readonly detail?: readonly RegExp[];
  readonly notDetail?: readonly RegExp[];
  /** Another patient in context (the resources stay those of PATIENT). */
  readonly patientId?: string;
}

const cases: Case[] = [];
/** How the card's record list shows a suspected Condition ("- name: suspected, since …"). */
const SUSPECTED = /: suspected\b/;
const add = (c: Case) => cases.push(c);

// A cervical stenosis and a cord compression as the record most cases sit on.
const stenosis = (extra: Json = {}) => condition(coded(ICD, 'M48.02', 'Spinal stenosis, cervical region'), extra);
const cord = (extra: Json = {}) => condition(coded(ICD, 'G95.20', 'Unspecified cord compression'), extra);
const manipulation = (extra: Json = {}) => order(coded(CPT, '98940', 'Chiropractic manipulation 1-2 regions'), extra);
const massageAt = (bodySite: readonly Json[] | undefined) => (bodySite === undefined ? without(order(), 'bodySite') : order(undefined, { bodySite }));

/** Each form a client may send an ICD-10-CM code in (§1). */
function icdForms(code: string): Array<[string, Json]> {
  const undotted = code.replace('.', '');
  return [
    ['dotted', coded(ICD, code)],
    ['undotted', coded(ICD, undotted)],
    ['lower case', coded(ICD, code.toLowerCase())],
    ['lower case undotted', coded(ICD, undotted.toLowerCase())],
    ['by OID', coded(OID[ICD], code)],
    ['by OID undotted', coded(OID[ICD], undotted)],
  ];
}
function sctForms(code: string): Array<[string, Json]> {
  return [
    ['SNOMED', coded(SCT, code)],
    ['SNOMED by OID', coded(OID[SCT], code)],
  ];
}
function cptForms(code: string): Array<[string, Json]> {
  return [
    ['CPT', coded(CPT, code)],
    ['CPT by OID', coded(OID[CPT], code)],
  ];
}

// ---- §2 coded members, sent without a display (so the code alone decides) -------------------------

const CORD_ICD = ['G95.20', 'G95.29', 'M47.11', 'M47.12', 'M47.13', 'M50.00', 'M50.01', 'M50.02', 'M50.020', 'M50.021', 'M50.022', 'M50.023', 'M50.03', 'M43.3', 'G99.2', 'G83.4'];
const CORD_SCT = ['65260001', '192907007', '75467001'];
for (const code of CORD_ICD) {
  for (const [form, concept] of icdForms(code)) {
    add({ policy: '§2 CORD coded member, §1 dot/case/OID; §4 row 1', name: `CORD ${code} ${form} → row 1`, hooks: ['order-sign'], record: { conditions: [condition(concept)] }, cards: [ROW[1]] });
  }
}
for (const code of CORD_SCT) {
  for (const [form, concept] of sctForms(code)) {
    add({ policy: '§2 CORD coded member (SNOMED); §4 row 1', name: `CORD ${form} ${code} → row 1`, hooks: ['order-sign'], record: { conditions: [condition(concept)] }, cards: [ROW[1]] });
  }
}
add({ policy: '§2 CORD; §4 row 1 on every hook', name: 'CORD G95.20 on every hook → row 1', hooks: ALL_HOOKS, record: { conditions: [cord()] }, cards: [ROW[1]] });

for (const code of ['M48.01', 'M48.02', 'M48.03', 'M48.00']) {
  for (const [form, concept] of icdForms(code)) {
    add({
      policy: '§2 STENOSIS coded member (M48.00 region unknown, treated as cervical); §4 row 3',
      name: `STENOSIS ${code} ${form} → row 3`,
      hooks: ['order-sign'],
      record: { conditions: [condition(concept)] },
      cards: [ROW[3]],
      ...(code === 'M48.00' ? { detail: [/without a region/i] } : {}),
    });
  }
}
for (const code of ['83561009', '76107001']) {
  for (const [form, concept] of sctForms(code)) {
    add({
      policy: '§2 STENOSIS coded member (76107001 region unknown); §4 row 3',
      name: `STENOSIS ${form} ${code} → row 3`,
      hooks: ['order-sign'],
      record: { conditions: [condition(concept)] },
      cards: [ROW[3]],
      ...(code === '76107001' ? { detail: [/without a region/i] } : {}),
    });
  }
}
add({ policy: '§5 the matched record entries: a code sent by OID is listed under its system name', name: 'STENOSIS M48.02 by OID is listed as ICD-10-CM', hooks: ['order-sign'], record: { conditions: [condition(coded(OID[ICD], 'M48.02', 'Spinal stenosis, cervical region'))] }, cards: [ROW[3]], detail: [/\(ICD-10-CM M48\.02\)/], notDetail: [/urn:oid/] });
add({ policy: '§2 STENOSIS; §4 row 3 on every hook', name: 'STENOSIS M48.02 on every hook → row 3', hooks: ALL_HOOKS, record: { conditions: [stenosis()] }, cards: [ROW[3]] });

const RADICULOPATHY_ICD = ['M54.11', 'M54.12', 'M54.13', 'M50.10', 'M50.11', 'M50.12', 'M50.120', 'M50.121', 'M50.122', 'M50.123', 'M50.13', 'M47.21', 'M47.22', 'M47.23', 'G54.2'];
const RADICULOPATHY_SCT = ['202757008', '202683005', '11049006', '202776005'];
const urinaryRetention = () => condition(coded(ICD, 'R33.9', 'Retention of urine, unspecified'));
for (const code of RADICULOPATHY_ICD) {
  for (const [form, concept] of icdForms(code)) {
    add({ policy: '§2 RADICULOPATHY with a RED FLAG → `flagged`; §4 row 1', name: `RADICULOPATHY ${code} ${form} with urinary retention → row 1`, hooks: ['order-sign'], record: { conditions: [condition(concept), urinaryRetention()] }, cards: [ROW[1]] });
  }
  add({ policy: 'Massage is reasonable for cervical radiculopathy without cord compression: no alert', name: `RADICULOPATHY ${code} alone → no card`, hooks: ['order-sign'], record: { conditions: [condition(coded(ICD, code))] }, cards: [] });
}
for (const code of RADICULOPATHY_SCT) {
  for (const [form, concept] of sctForms(code)) {
    add({ policy: '§2 RADICULOPATHY (SNOMED) with a RED FLAG; §4 row 1', name: `RADICULOPATHY ${form} ${code} with urinary retention → row 1`, hooks: ['order-sign'], record: { conditions: [condition(concept), urinaryRetention()] }, cards: [ROW[1]] });
  }
  add({ policy: 'cervical radiculopathy without cord compression: no alert', name: `RADICULOPATHY SNOMED ${code} alone → no card`, hooks: ['order-sign'], record: { conditions: [condition(coded(SCT, code))] }, cards: [] });
}

// RED FLAG: the families (N31.x, R33.x, R15.x, R26.x) by several members.
const RED_FLAG_ICD = ['N31.0', 'N31.9', 'R33.0', 'R33.8', 'R33.9', 'R32', 'N39.41', 'N39.42', 'N39.490', 'N39.498', 'R15.0', 'R15.9', 'R20.0', 'R26.0', 'R26.2', 'R26.81', 'R26.89', 'R26.9', 'R29.2'];
const RED_FLAG_SCT = ['267064002', '236648008', '165232002', '397732007', '22325002', '25136009', '163686004', '713514005', '15634971000119107', '249946008', '312444006'];
for (const code of RED_FLAG_ICD) {
  for (const [form, concept] of icdForms(code)) {
    add({ policy: '§2 RED FLAG with STENOSIS → `flagged`; §4 row 1', name: `RED FLAG ${code} ${form} with cervical stenosis → row 1`, hooks: ['order-sign'], record: { conditions: [condition(concept), stenosis()] }, cards: [ROW[1]] });
  }
  add({ policy: '§2 a RED FLAG alone (no STENOSIS or RADICULOPATHY) is not `flagged`', name: `RED FLAG ${code} alone → no card`, hooks: ['order-sign'], record: { conditions: [condition(coded(ICD, code))] }, cards: [] });
}
for (const code of RED_FLAG_SCT) {
  for (const [form, concept] of sctForms(code)) {
    add({ policy: '§2 RED FLAG (SNOMED) with STENOSIS; §4 row 1', name: `RED FLAG ${form} ${code} with cervical stenosis → row 1`, hooks: ['order-sign'], record: { conditions: [condition(concept), stenosis()] }, cards: [ROW[1]] });
  }
}
add({ policy: '§2 RED FLAG with STENOSIS; §4 row 1 on every hook', name: 'RED FLAG R33.9 with stenosis on every hook → row 1', hooks: ALL_HOOKS, record: { conditions: [urinaryRetention(), stenosis()] }, cards: [ROW[1]] });
for (const [system, code] of [[ICD, 'R53.1'], [ICD, 'M62.81'], [ICD, 'R20.2'], [SCT, '26544005'], [SCT, '91019004']] as const) {
  add({ policy: '§2 not generic weakness, paresthesia or numbness: too common to escalate on', name: `${code} with cervical stenosis → row 3, not row 1`, hooks: ['order-sign'], record: { conditions: [condition(coded(system, code)), stenosis()] }, cards: [ROW[3]] });
}
add({ policy: '§2 RED FLAG "active or suspected, not historical"', name: 'resolved red flag with stenosis → row 3', hooks: ['order-sign'], record: { conditions: [urinaryRetention() && condition(coded(ICD, 'R33.9'), { clinicalStatus: 'resolved' }), stenosis()] }, cards: [ROW[3]] });
add({ policy: '§2 `flagged`: STENOSIS or RADICULOPATHY of any status but ignored', name: 'red flag with resolved radiculopathy → row 1', hooks: ['order-sign'], record: { conditions: [urinaryRetention(), condition(coded(ICD, 'M54.12'), { clinicalStatus: 'resolved' })] }, cards: [ROW[1]] });
add({ policy: '§2 `flagged`: "treated or not (new neurological signs after surgery are no less urgent)"', name: 'red flag with stenosis decompressed after onset → row 1', hooks: ALL_HOOKS, record: { conditions: [urinaryRetention(), stenosis()], procedures: [procedure(coded(CPT, '63045'), { performedDateTime: '2024-06-01' })] }, cards: [ROW[1]] });

// DECOMPRESSED: each coded member dated after a stenosis onset → row 5.
const DECOMPRESSION_CPT = ['63001', '63015', '63020', '63045', '63050', '63051', '63081', '22551', '22552'];
const DECOMPRESSION_SCT = ['445429009', '438371007', '426321009', '283165009'];
for (const code of DECOMPRESSION_CPT) {
  for (const [form, concept] of cptForms(code)) {
    add({ policy: '§2 DECOMPRESSED coded member, dated after onset → treated; §4 row 5', name: `DECOMPRESSED ${form} ${code} after onset → row 5`, hooks: ['order-sign'], record: { conditions: [stenosis()], procedures: [procedure(concept, { performedDateTime: '2024-06-01' })] }, cards: [ROW[5]] });
  }
}
for (const code of DECOMPRESSION_SCT) {
  for (const [form, concept] of sctForms(code)) {
    add({ policy: '§2 DECOMPRESSED coded member (SNOMED); §4 row 5', name: `DECOMPRESSED ${form} ${code} after onset → row 5`, hooks: ['order-sign'], record: { conditions: [stenosis()], procedures: [procedure(concept, { performedDateTime: '2024-06-01' })] }, cards: [ROW[5]] });
  }
}
add({ policy: '§2 DECOMPRESSED; §4 row 5 on every hook', name: 'decompressed stenosis on every hook → row 5', hooks: ALL_HOOKS, record: { conditions: [stenosis()], procedures: [procedure(coded(CPT, '63045'), { performedDateTime: '2024-06-01' })] }, cards: [ROW[5]], detail: [/operating surgeon/i] });
add({ policy: '§2 DECOMPRESSED needs `Procedure.status` completed', name: 'decompression in progress → row 3', hooks: ['order-sign'], record: { conditions: [stenosis()], procedures: [procedure(coded(CPT, '63045'), { status: 'in-progress', performedDateTime: '2024-06-01' })] }, cards: [ROW[3]] });

// MALIGNANT context.
const MALIGNANT_ICD = ['C79.49', 'C79.51', 'C00.0', 'C34.90', 'C50.911', 'C61', 'C90.00', 'C96.9', 'C4A.9', 'C7A.00'];
for (const code of MALIGNANT_ICD) {
  for (const [form, concept] of icdForms(code).slice(0, 5)) {
    add({ policy: '§2 MALIGNANT (C79.49, C79.51 or any C00–C96); §5 row 1 puts dexamethasone first, whole spine', name: `MALIGNANT ${code} ${form} with cord compression → row 1 malignant`, hooks: ['order-sign'], record: { conditions: [cord(), condition(concept)] }, cards: [ROW[1]], detail: [/dexamethasone/i] });
  }
}
for (const code of ['D49.2', 'D32.9', 'Z85.3']) {
  add({ policy: '§2 MALIGNANT is C00–C96 only', name: `${code} with cord compression → row 1 without dexamethasone`, hooks: ['order-sign'], record: { conditions: [cord(), condition(coded(ICD, code))] }, cards: [ROW[1]], notDetail: [/dexamethasone/i] });
}
add({ policy: '§2 MALIGNANT "active or suspected"', name: 'resolved cancer with cord compression → row 1 without dexamethasone', hooks: ['order-sign'], record: { conditions: [cord(), condition(coded(ICD, 'C34.90'), { clinicalStatus: 'resolved' })] }, cards: [ROW[1]], notDetail: [/dexamethasone/i] });
add({ policy: '§2 MALIGNANT alone raises nothing', name: 'cancer alone → no card', hooks: ALL_HOOKS, record: { conditions: [condition(coded(ICD, 'C79.51'))] }, cards: [] });
add({ policy: '§2 MALIGNANT on every hook', name: 'metastatic cord compression on every hook → row 1 malignant', hooks: ALL_HOOKS, record: { conditions: [cord(), condition(coded(ICD, 'C79.51'))] }, cards: [ROW[1]], detail: [/dexamethasone/i] });

// Not triggers by themselves.
const NOT_TRIGGERS: Array<[string, string]> = [
  [ICD, 'M48.04'], [ICD, 'M48.05'], [ICD, 'M48.06'], [ICD, 'M48.061'], [ICD, 'M48.062'], [ICD, 'M48.07'], [ICD, 'M48.08'],
  [SCT, '41341006'], [SCT, '18347007'], [ICD, 'M62.830'], [ICD, 'M62.838'], [ICD, 'R25.2'], [ICD, 'M54.2'], [ICD, 'N88.2'],
];
for (const [system, code] of NOT_TRIGGERS) {
  add({ policy: '§2 not triggers by themselves', name: `${code} alone → no card`, hooks: ['order-sign'], record: { conditions: [condition(coded(system, code))] }, cards: [] });
  add({ policy: '§1 a recognised coding decides; its display is not read', name: `${code} with a stenosis-sounding display → no card`, hooks: ['order-sign'], record: { conditions: [condition(coded(system, code, 'Cervical stenosis (uterine)'))] }, cards: [] });
}
add({ policy: '§2 not triggers: N88.2 by OID, undotted', name: 'N88.2 by OID undotted → no card', hooks: ALL_HOOKS, record: { conditions: [condition(coded(OID[ICD], 'N882', 'Stricture and stenosis of cervix uteri'))] }, cards: [] });
for (const phrase of ['Low back pain', 'Muscle spasm of neck', 'Neck pain', 'Fibromyalgia', 'Cancer pain', 'Lumbar spinal stenosis', 'Thoracic stenosis']) {
  add({ policy: '§2 not triggers by themselves (text)', name: `"${phrase}" alone → no card`, hooks: ORDER_HOOKS, record: { conditions: [condition(text(phrase))] }, cards: [] });
}
add({ policy: '§1 a recognised coding wins over the text: lumbar stenosis coded, "cervical" in its text', name: 'M48.061 with text "cervical stenosis" → no card', hooks: ['order-sign'], record: { conditions: [condition({ ...coded(ICD, 'M48.061'), text: 'Cervical stenosis' })] }, cards: [] });

// §1 recognised codings and system URIs.
add({ policy: '§1 a coding is recognised when its system and code appear anywhere in §2 or §3 (body-site codes included), whatever the resource type: its text is not read', name: 'Condition coded with the Neck body-site code, text "Cord compression" → no card', hooks: ['order-sign'], record: { conditions: [condition({ ...coded(SCT, '45048000'), text: 'Cord compression' })] }, cards: [] });
for (const system of ['HTTP://HL7.ORG/FHIR/SID/ICD-10-CM', 'http://hl7.org/fhir/sid/icd-10', 'http://hl7.org/fhir/sid/icd-10-cm/', 'urn:oid:2.16.840.1.113883.6.3']) {
  add({ policy: '§1 system URIs are compared exactly (only the listed OID and HCPCS forms are aliases)', name: `M48.02 under "${system}" with no display → no card`, hooks: ['order-sign'], record: { conditions: [condition(coded(system, 'M48.02'))] }, cards: [] });
  add({ policy: '§1 an unrecognised coding is read by its display', name: `M48.02 under "${system}" with its display → row 3 by text`, hooks: ['order-sign'], record: { conditions: [condition(coded(system, 'M48.02', 'Spinal stenosis, cervical region'))] }, cards: [ROW[3]], detail: [/read from its text/] });
}

// ---- §1 text: phrases, cues, clauses ---------------------------------------------------------------

const CORD_PHRASES = ['Cord compression', 'Cervical myelopathy', 'Cauda equina syndrome', 'Spinal cord compressions'];
for (const phrase of CORD_PHRASES) {
  for (const [how, concept] of [['code.text', text(phrase)], ['local coding display', local(phrase)]] as const) {
    add({ policy: '§1 text of an entry with no recognised coding; §2 CORD phrases', name: `"${phrase}" (${how}) → row 1`, hooks: ['order-sign'], record: { conditions: [condition(concept)] }, cards: [ROW[1]] });
  }
}
const NEGATIONS_BEFORE = ['no', 'not', 'without', 'negative for', 'denies', 'ruled out', 'excluded', 'family history of'];
for (const cue of NEGATIONS_BEFORE) {
  add({ policy: `§1 a phrase preceded in its clause by a negation ("${cue}") does not match`, name: `"${cue} cord compression" → no card`, hooks: ['order-sign'], record: { conditions: [condition(text(`${cue} cord compression`))] }, cards: [] });
  add({ policy: `§1 a negation ("${cue}") in another clause does not reach the phrase`, name: `"${cue} fracture; cord compression" → row 1`, hooks: ['order-sign'], record: { conditions: [condition(text(`${cue} fracture; cord compression`))] }, cards: [ROW[1]] });
  add({ policy: `§1 a negation ("${cue}") after the phrase is not a negation before it`, name: `"cord compression, ${cue} fracture" → row 1`, hooks: ['order-sign'], record: { conditions: [condition(text(`cord compression, ${cue} fracture`))] }, cards: [ROW[1]] });
  add({ policy: `§1 negation ("${cue}") of the stenosis phrase`, name: `"${cue} cervical stenosis" → no card`, hooks: ['order-sign'], record: { conditions: [condition(text(`${cue} cervical stenosis`))] }, cards: [] });
}
for (const cue of ['ruled out', 'excluded', 'negative']) {
  add({ policy: `§1 a phrase followed in its clause by "${cue}" does not match`, name: `"cord compression ${cue}" → no card`, hooks: ['order-sign'], record: { conditions: [condition(text(`Cord compression ${cue}`))] }, cards: [] });
  add({ policy: `§1 "${cue}" in the next clause does not reach back`, name: `"cord compression. Fracture ${cue}" → row 1`, hooks: ['order-sign'], record: { conditions: [condition(text(`Cord compression. Fracture ${cue}`))] }, cards: [ROW[1]] });
  add({ policy: `§1 "${cue}" after the stenosis phrase`, name: `"cervical stenosis ${cue}" → no card`, hooks: ['order-sign'], record: { conditions: [condition(text(`Cervical stenosis ${cue}`))] }, cards: [] });
}
const SUSPICION_BEFORE = ['rule out', 'r/o', 'possible', 'suspected', 'query', '?'];
for (const cue of SUSPICION_BEFORE) {
  add({ policy: `§1 "${cue}" before the phrase makes the Condition suspected; suspected cord compression counts as active`, name: `"${cue} cord compression" → row 1, suspected`, hooks: ['order-sign'], record: { conditions: [condition(text(`${cue} cord compression`))] }, cards: [ROW[1]], detail: [SUSPECTED] });
  add({ policy: `§1 "${cue}" before the stenosis phrase: suspected stenosis still counts`, name: `"${cue} cervical stenosis" → row 3`, hooks: ['order-sign'], record: { conditions: [condition(text(`${cue} cervical stenosis`))] }, cards: [ROW[3]] });
  add({ policy: `§1 "${cue}" in another clause does not make the phrase suspected`, name: `"${cue} fracture; cord compression" → row 1, not suspected`, hooks: ['order-sign'], record: { conditions: [condition(text(`${cue} fracture; cord compression`))] }, cards: [ROW[1]], notDetail: [SUSPECTED] });
}
add({ policy: '§1 "?" right after the phrase makes it suspected', name: '"cord compression?" → row 1, suspected', hooks: ALL_HOOKS, record: { conditions: [condition(text('Cord compression?'))] }, cards: [ROW[1]], detail: [SUSPECTED] });
add({ policy: '§1 "?" right after, then a clause', name: '"myelopathy?, neck pain" → row 1, suspected', hooks: ['order-sign'], record: { conditions: [condition(text('Myelopathy?, neck pain'))] }, cards: [ROW[1]], detail: [SUSPECTED] });

// STENOSIS phrases and the clause join.
const STENOSIS_TEXTS: Array<[string, number | undefined]> = [
  ['Cervical spinal stenosis', 3],
  ['Canal stenosis C5-C6', 3],
  ['Stenosis of the neck', 3],
  ['Foraminal stenosis at C4', 3],
  ['Spinal stenosis, cervical region', 3],
  ['Spinal stenosis, C5-C6', 3],
  ['Spinal stenosis, C5/C6', 3],
  ['Spinal stenosis, C5–C7', 3],
  ['Spinal stenosis, C5-C6 level', 3],
  ['Spinal stenosis, at the C5-C6 level', 3],
  ['Spinal stenosis, multiple sites, cervical and lumbar regions', 3],
  ['Spinal stenosis; cervical', 3],
  ['Spinal stenosis. Cervical spine', 3],
  ['Spinal stenosis, neck', 3],
  ['Spinal stenosis, lumbar region', undefined],
  ['Spinal stenosis, L4-L5', undefined],
  ['Spinal stenosis, thoracic region', undefined],
  ['Spinal stenosis', undefined],
  ['Cervical spondylosis, stenosis at L4-L5', undefined],
  ['Cervical spondylosis; lumbar stenosis', undefined],
  ['Stenosis of the cervix uteri', undefined],
  ['Cervical stenosis (uterine)', undefined],
  ['Stricture and stenosis of cervix uteri', undefined],
];
for (const [phrase, row] of STENOSIS_TEXTS) {
  add({
    policy: '§1 clauses and the site-word join; §2 STENOSIS text: stenosis with cervical, neck or C1–C7 in the same clause, unless it names the uterine cervix',
    name: `"${phrase}" → ${row ? `row ${row}` : 'no card'}`,
    hooks: ALL_HOOKS,
    record: { conditions: [condition(local(phrase))] },
    cards: row ? [ROW[3]] : [],
  });
}
const RADICULOPATHY_TEXTS: Array<[string, boolean]> = [
  ['Cervical radiculopathy', true],
  ['Radiculopathy, cervical region', true],
  ['Radiculopathy C6', true],
  ['C5–C6 radiculopathy', true],
  ['Lumbar radiculopathy', false],
  ['Radiculopathy, lumbar region', false],
  ['Radiculopathy', false],
];
for (const [phrase, counts] of RADICULOPATHY_TEXTS) {
  add({ policy: '§2 RADICULOPATHY text with cervical, neck or C1–C7 in the same clause, with a red flag → `flagged`', name: `"${phrase}" with urinary retention → ${counts ? 'row 1' : 'no card'}`, hooks: ['order-sign'], record: { conditions: [condition(text(phrase)), urinaryRetention()] }, cards: counts ? [ROW[1]] : [] });
}
const RED_FLAG_PHRASES = ['Urinary retention', 'Bladder dysfunction', 'Bowel incontinence', 'Saddle anesthesia', 'Saddle anaesthesia', 'Gait disturbance', 'Unsteady gait', 'Progressive weakness'];
for (const phrase of RED_FLAG_PHRASES) {
  add({ policy: '§2 RED FLAG text phrase with STENOSIS → row 1', name: `"${phrase}" with cervical stenosis → row 1`, hooks: ['order-sign'], record: { conditions: [condition(text(phrase)), stenosis()] }, cards: [ROW[1]] });
  add({ policy: '§1 a negated red flag does not match', name: `"Denies ${phrase.toLowerCase()}" with cervical stenosis → row 3`, hooks: ['order-sign'], record: { conditions: [condition(text(`Denies ${phrase.toLowerCase()}`)), stenosis()] }, cards: [ROW[3]] });
  add({ policy: '§1 "possible" makes the red flag suspected; §2 suspected red flags count', name: `"Possible ${phrase.toLowerCase()}" with radiculopathy → row 1`, hooks: ['order-sign'], record: { conditions: [condition(text(`Possible ${phrase.toLowerCase()}`)), condition(coded(ICD, 'M54.12'))] }, cards: [ROW[1]] });
}
const DECOMPRESSION_TEXTS: Array<[string, boolean]> = [
  ['ACDF C5-C6', true],
  ['Anterior cervical discectomy and fusion', true],
  ['Cervical laminectomy', true],
  ['Laminoplasty C3-C6', true],
  ['Corpectomy C5', true],
  ['Decompression of the neck', true],
  ['Laminectomy, cervical region', true],
  ['Lumbar laminectomy', false],
  ['Laminectomy', false],
  ['Decompression, L4-L5', false],
  ['No ACDF', false],
];
for (const [phrase, counts] of DECOMPRESSION_TEXTS) {
  add({ policy: '§2 DECOMPRESSED text: ACDF, anterior cervical discectomy; or laminectomy, laminoplasty, corpectomy, decompression with cervical, neck or C1–C7', name: `procedure "${phrase}" after onset → ${counts ? 'row 5' : 'row 3'}`, hooks: ['order-sign'], record: { conditions: [stenosis()], procedures: [procedure(text(phrase), { performedDateTime: '2024-06-01' })] }, cards: [counts ? ROW[5] : ROW[3]] });
}
const MALIGNANT_PHRASES = ['Metastatic prostate disease', 'Malignant neoplasm of lung', 'Breast cancer', 'Squamous cell carcinoma', 'Ewing sarcoma', 'Non-Hodgkin lymphoma', 'Multiple myeloma', 'Chronic lymphocytic leukemia', 'Acute myeloid leukaemia', 'Melanoma of skin'];
for (const phrase of MALIGNANT_PHRASES) {
  add({ policy: '§2 MALIGNANT text phrase with cord compression → row 1 malignant', name: `"${phrase}" with cord compression → dexamethasone`, hooks: ['order-sign'], record: { conditions: [cord(), condition(local(phrase))] }, cards: [ROW[1]], detail: [/dexamethasone/i] });
}
add({ policy: '§1 negation of the malignant phrase', name: '"No evidence of cancer" with cord compression → no dexamethasone', hooks: ['order-sign'], record: { conditions: [cord(), condition(text('No evidence of cancer'))] }, cards: [ROW[1]], notDetail: [/dexamethasone/i] });
add({ policy: '§1 "family history of" is a negation', name: '"Family history of lymphoma" with cord compression → no dexamethasone', hooks: ['order-sign'], record: { conditions: [cord(), condition(text('Family history of lymphoma'))] }, cards: [ROW[1]], notDetail: [/dexamethasone/i] });
add({ policy: '§1 a text naming both stenosis and cord compression is CORD and STENOSIS', name: '"Cervical stenosis with cord compression" → row 1', hooks: ALL_HOOKS, record: { conditions: [condition(text('Cervical stenosis with cord compression'))] }, cards: [ROW[1]] });
add({ policy: '§2 a historical "cervical stenosis with cord compression" is a treated CORD and an untreated STENOSIS', name: 'resolved "Cervical stenosis with cord compression" → row 3', hooks: ALL_HOOKS, record: { conditions: [condition(text('Cervical stenosis with cord compression'), { clinicalStatus: 'resolved' })] }, cards: [ROW[3]] });
add({ policy: '§2 …unless a dated decompression treats it', name: 'resolved "Cervical stenosis with cord compression", decompressed after onset → row 5', hooks: ['order-sign'], record: { conditions: [condition(text('Cervical stenosis with cord compression'), { clinicalStatus: 'resolved' })], procedures: [procedure(coded(CPT, '63081'), { performedDateTime: '2024-05-01' })] }, cards: [ROW[5]] });

// ---- §3 orders and appointments ----------------------------------------------------------------------

const THERAPY_CODES: Array<[string, string, 2 | 3]> = [
  [CPT, '97124', 3], [SCT, '387854002', 3], [SERVICE_TYPE, '25', 3], [SERVICE_TYPE, '27', 3], [SERVICE_TYPE, '32', 3],
  [CPT, '97140', 3], [CPT, '98943', 3], [SERVICE_TYPE, '17', 3],
  [CPT, '98940', 2], [CPT, '98941', 2], [CPT, '98942', 2], [CPT, '98925', 2], [CPT, '98926', 2], [CPT, '98927', 2], [CPT, '98928', 2], [CPT, '98929', 2],
  [SCT, '46947000', 2], [SCT, '308449000', 2], [SCT, '308450000', 2], [SERVICE_TYPE, '52', 2], [SERVICE_TYPE, '63', 2],
];
for (const [system, code, row] of THERAPY_CODES) {
  const forms: Array<[string, Json]> = system === CPT ? cptForms(code) : system === SCT ? sctForms(code) : [['service type', coded(system, code)]];
  for (const [form, concept] of forms) {
    add({ policy: `§3 therapy class coded member; §4 row ${row} at the neck`, name: `order ${form} ${code} at the neck with stenosis → row ${row}`, hooks: ALL_HOOKS, orders: [order(concept)], record: { conditions: [stenosis()] }, cards: [ROW[row]] });
    add({ policy: '§3 therapy class; §4 row 4 at a remote site', name: `order ${form} ${code} at the lumbar spine with stenosis → row 4`, hooks: ORDER_HOOKS, orders: [order(concept, { bodySite: [coded(SCT, '122496007')] })], record: { conditions: [stenosis()] }, cards: [ROW[4]] });
  }
}
const NOT_CONFLICTS: Array<[string, string]> = [[CPT, '97110'], [CPT, '97112'], [CPT, '97161'], [CPT, '97162'], [CPT, '97163'], [SCT, '308447003'], [SERVICE_TYPE, '65']];
for (const [system, code] of NOT_CONFLICTS) {
  add({ policy: '§3 not conflicts', name: `order ${code} with cord compression → no card`, hooks: ALL_HOOKS, orders: [order(coded(system, code))], record: { conditions: [cord()] }, cards: [] });
  add({ policy: '§1 a recognised coding decides; the order text is not read', name: `order ${code} named "Neck massage" with cord compression → no card`, hooks: ORDER_HOOKS, orders: [order({ ...coded(system, code), text: 'Neck massage' })], record: { conditions: [cord()] }, cards: [] });
}
const THERAPY_TEXTS: Array<[string, 2 | 3]> = [
  ['Massage', 3], ['Soft tissue massage', 3], ['Manual therapy', 3], ['Joint mobilization', 3], ['Mobilisation', 3], ['Myofascial release', 3], ['Manual traction', 3],
  ['Myotherapy', 3], ['Shiatsu', 3], ['Bowen therapy', 3], ['Osteopathy', 2],
  ['Manipulation', 2], ['Spinal manipulation', 2], ['Cervical manipulation', 2], ['Neck manipulation', 2], ['Osteopathic manipulation', 2], ['Chiropractic care', 2], ['HVLA thrust', 2],
];
for (const [phrase, row] of THERAPY_TEXTS) {
  add({ policy: `§3 therapy text phrase; §4 row ${row}`, name: `order "${phrase}" at the neck with stenosis → row ${row}`, hooks: ALL_HOOKS, orders: [order(local(phrase))], record: { conditions: [stenosis()] }, cards: [ROW[row]] });
}
add({ policy: '§3 "Manipulation under anaesthesia of shoulder" is MANIPULATION at a remote site; §4 row 4', name: 'order "Manipulation under anaesthesia of shoulder" (bodySite shoulder) → row 4', hooks: ALL_HOOKS, orders: [order(text('Manipulation under anaesthesia of shoulder'), { bodySite: [{ text: 'Shoulder' }] })], record: { conditions: [stenosis()] }, cards: [ROW[4]] });
add({ policy: '§3 "Manipulation under anaesthesia of shoulder" is MANIPULATION at a remote site, with `cord` → row 1', name: 'order "Manipulation under anaesthesia of shoulder" with cord compression → row 1', hooks: ALL_HOOKS, orders: [order(text('Manipulation under anaesthesia of shoulder'), { bodySite: [{ text: 'Shoulder' }] })], record: { conditions: [cord()] }, cards: [ROW[1]] });
add({ policy: '§3 site from bodySite only: "unspecified: no bodySite" (the safer reading; the order name is not read for a site)', name: 'order "Manipulation under anaesthesia of shoulder" with no bodySite → row 2', hooks: ORDER_HOOKS, orders: [without(order(text('Manipulation under anaesthesia of shoulder')), 'bodySite')], record: { conditions: [stenosis()] }, cards: [ROW[2]], detail: [/No body site/i] });
add({ policy: '§1 a negated therapy phrase does not match', name: 'order "Exercise, no massage" → no card', hooks: ORDER_HOOKS, orders: [order(text('Therapeutic exercise, no massage'))], record: { conditions: [cord()] }, cards: [] });

// Body sites (§3 and terminology.md §5), with massage (row 3 / 4) and manipulation (row 2 / 4).
const SITE_CODES: Array<[string, 'cervical' | 'unspecified' | 'remote']> = [
  ['122494005', 'cervical'], ['1217257000', 'cervical'], ['45048000', 'cervical'], ['774007', 'cervical'],
  ['421060004', 'unspecified'], ['737561001', 'unspecified'], ['2748008', 'unspecified'], ['77568009', 'unspecified'],
  ['122495006', 'remote'], ['1217256009', 'remote'], ['122496007', 'remote'], ['1217253001', 'remote'], ['54735007', 'remote'], ['64688005', 'remote'], ['1217254007', 'remote'], ['52612000', 'remote'],
];
const massageRow = { cervical: 3, unspecified: 3, remote: 4 } as const;
const manipulationRow = { cervical: 2, unspecified: 2, remote: 4 } as const;
for (const [code, site] of SITE_CODES) {
  for (const [form, concept] of sctForms(code)) {
    add({ policy: `§3 body-site code ${code} is ${site}`, name: `massage at ${form} ${code} (${site}) → row ${massageRow[site]}`, hooks: ORDER_HOOKS, orders: [massageAt([concept])], record: { conditions: [stenosis()] }, cards: [ROW[massageRow[site]]] });
  }
  add({ policy: `§3 body-site code ${code} is ${site}`, name: `manipulation at ${code} (${site}) → row ${manipulationRow[site]}`, hooks: ORDER_HOOKS, orders: [manipulation({ bodySite: [coded(SCT, code)] })], record: { conditions: [stenosis()] }, cards: [ROW[manipulationRow[site]]] });
}
const SITE_WORDS: Array<[string, 'cervical' | 'unspecified' | 'remote']> = [
  ['Neck', 'cervical'], ['Cervical spine', 'cervical'], ['Cervicothoracic junction', 'cervical'], ['Cervico-thoracic junction', 'cervical'],
  ['C1', 'cervical'], ['C2', 'cervical'], ['C3', 'cervical'], ['C4', 'cervical'], ['C5', 'cervical'], ['C6', 'cervical'], ['C7', 'cervical'],
  ['C5-C6', 'cervical'], ['C5/C6', 'cervical'], ['C5–C7', 'cervical'], ['Neck and shoulders', 'cervical'], ['Lower back and neck', 'cervical'], ['Thoracic spine, cervical region', 'cervical'],
  ['Back', 'unspecified'], ['Spine', 'unspecified'], ['back', 'unspecified'], ['Whole body', 'unspecified'],
  ['Thoracic spine', 'remote'], ['Lumbar spine', 'remote'], ['Low back', 'remote'], ['Lower back', 'remote'], ['Sacral region', 'remote'], ['Sacrum', 'remote'], ['Coccyx', 'remote'],
  ['Left shoulder', 'remote'], ['Arm', 'remote'], ['Forearm', 'remote'], ['Elbow', 'remote'], ['Wrist', 'remote'], ['Hand', 'remote'], ['Hips', 'remote'], ['Buttock', 'remote'],
  ['Thigh', 'remote'], ['Knee', 'remote'], ['Legs', 'remote'], ['Calf', 'remote'], ['Ankle', 'remote'], ['Foot', 'remote'],
  ['Lumbosacral', 'remote'], ['Lumbo-sacral junction', 'remote'], ['Thoracolumbar', 'remote'], ['Thoraco-lumbar spine', 'remote'], ['Upper back', 'remote'], ['T4-T5', 'unspecified'],
];
for (const [word, site] of SITE_WORDS) {
  add({ policy: `§3 body-site text "${word}" is ${site} (cervical words checked before the remote words; unrecognised text is unspecified)`, name: `massage at "${word}" → row ${massageRow[site]}`, hooks: ALL_HOOKS, orders: [massageAt([{ text: word }])], record: { conditions: [stenosis()] }, cards: [ROW[massageRow[site]]] });
  add({ policy: `§3 a bodySite with no recognised coding is read by its display ("${word}")`, name: `manipulation at local code "${word}" → row ${manipulationRow[site]}`, hooks: ORDER_HOOKS, orders: [manipulation({ bodySite: [local(word)] })], record: { conditions: [stenosis()] }, cards: [ROW[manipulationRow[site]]] });
}
add({ policy: '§3 unspecified: no bodySite', name: 'massage with no bodySite → row 3, site taken to include the neck', hooks: ORDER_HOOKS, orders: [massageAt(undefined)], record: { conditions: [stenosis()] }, cards: [ROW[3]], detail: [/No body site/i] });
add({ policy: '§3 unspecified: no bodySite', name: 'manipulation with no bodySite → row 2', hooks: ORDER_HOOKS, orders: [without(manipulation(), 'bodySite')], record: { conditions: [stenosis()] }, cards: [ROW[2]] });
add({ policy: '§3 with several bodySites, the most cervical wins', name: 'massage at [lumbar spine, neck] → row 3', hooks: ORDER_HOOKS, orders: [massageAt([coded(SCT, '122496007'), coded(SCT, '45048000')])], record: { conditions: [stenosis()] }, cards: [ROW[3]] });
add({ policy: '§3 with several bodySites, the most cervical wins (unspecified over remote)', name: 'massage at [shoulder, spine] → row 3', hooks: ORDER_HOOKS, orders: [massageAt([{ text: 'Shoulder' }, coded(SCT, '421060004')])], record: { conditions: [stenosis()] }, cards: [ROW[3]] });
add({ policy: '§3 with several bodySites, the most cervical wins (all remote)', name: 'manipulation at [shoulder, lower back] → row 4', hooks: ORDER_HOOKS, orders: [manipulation({ bodySite: [{ text: 'Shoulder' }, { text: 'Lower back' }] })], record: { conditions: [stenosis()] }, cards: [ROW[4]] });
add({ policy: '§3 a recognised bodySite code wins over its text', name: 'massage at lumbar spine code with text "neck" → row 4', hooks: ORDER_HOOKS, orders: [massageAt([{ ...coded(SCT, '122496007'), text: 'Neck' }])], record: { conditions: [stenosis()] }, cards: [ROW[4]] });
add({ policy: '§3 body-site text is matched without negation', name: 'massage at "not the neck" → row 3', hooks: ORDER_HOOKS, orders: [massageAt([{ text: 'Not the neck' }])], record: { conditions: [stenosis()] }, cards: [ROW[3]] });
add({ policy: '§3 body-site words are whole words', name: 'massage at "Handout area" (no site word) → row 3', hooks: ORDER_HOOKS, orders: [massageAt([{ text: 'Handout area' }])], record: { conditions: [stenosis()] }, cards: [ROW[3]] });

// Appointments (§3).
for (const status of ['proposed', 'pending', 'booked']) {
  add({ policy: `§3 an appointment with status ${status} is read`, name: `appointment ${status} → row 3`, hooks: ['appointment-book'], orders: [appointment(undefined, { status })], record: { conditions: [stenosis()] }, cards: [ROW[3]] });
}
for (const status of ['arrived', 'fulfilled', 'cancelled', 'noshow', 'entered-in-error', 'checked-in', 'waitlist']) {
  add({ policy: `§3 an appointment with status ${status} is not read`, name: `appointment ${status} → no card`, hooks: ['appointment-book'], orders: [appointment(undefined, { status })], record: { conditions: [cord()] }, cards: [] });
}
const APPOINTMENT_PARTICIPANTS: Array<[string, Json[] | undefined, boolean]> = [
  ['the patient by absolute URL', [{ actor: { reference: `https://ehr.example.org/fhir/Patient/${PATIENT}` } }], true],
  ['the patient with _history', [{ actor: { reference: `Patient/${PATIENT}/_history/4` } }], true],
  ['a practitioner only', [{ actor: { reference: 'Practitioner/pr-1' } }], true],
  ['no participant', undefined, true],
  ['another patient only', [{ actor: { reference: 'Patient/someone-else' } }], false],
  ['another patient and a practitioner', [{ actor: { reference: 'Patient/someone-else' } }, { actor: { reference: 'Practitioner/pr-1' } }], false],
  ['the patient and a relative', [{ actor: { reference: 'Patient/someone-else' } }, { actor: { reference: `Patient/${PATIENT}` } }], true],
];
for (const [who, participant, read] of APPOINTMENT_PARTICIPANTS) {
  add({ policy: '§3 an appointment belongs to the patient when a participant.actor references the patient (none naming any patient counts)', name: `appointment with ${who} → ${read ? 'row 3' : 'no card'}`, hooks: ['appointment-book'], orders: [appointment(undefined, participant ? { participant } : { participant: undefined })], record: { conditions: [stenosis()] }, cards: read ? [ROW[3]] : [] });
}
const APPOINTMENT_FIELDS: Array<[string, Json, number | undefined]> = [
  ['appointmentType massage (CPT 97124)', { serviceType: undefined, appointmentType: coded(CPT, '97124') }, 3],
  ['specialty chiropractic (52)', { serviceType: undefined, specialty: [coded(SERVICE_TYPE, '52')] }, 2],
  ['reasonCode osteopathy (63)', { serviceType: undefined, reasonCode: [coded(SERVICE_TYPE, '63')] }, 2],
  ['description only "Deep tissue massage"', { serviceType: undefined, description: 'Deep tissue massage' }, 3],
  ['serviceType text "Chiropractic adjustment"', { serviceType: [text('Chiropractic adjustment')] }, 2],
  ['physiotherapy (65) with a massage description', { serviceType: [coded(SERVICE_TYPE, '65')], description: 'Massage' }, undefined],
  ['massage with "Lower back" in its comment', { comment: 'Lower back' }, 4],
  ['massage with no site words', { comment: 'Please arrive early' }, 3],
  ['massage with "neck" in its description, "knee" in its comment', { description: 'Neck and shoulders', comment: 'Knee' }, 3],
  ['massage with "Shoulder" in its serviceType text', { serviceType: [{ ...coded(SERVICE_TYPE, '25'), text: 'Massage of shoulder' }], comment: undefined }, 4],
];
for (const [what, extra, row] of APPOINTMENT_FIELDS) {
  add({ policy: "§3 an appointment's class comes from the codings of serviceType, appointmentType, specialty and reasonCode, else their texts and description; its site from the site words in those texts, description and comment", name: `appointment ${what} → ${row ? `row ${row}` : 'no card'}`, hooks: ['appointment-book'], orders: [appointment(undefined, extra)], record: { conditions: [stenosis()] }, cards: row === 2 ? [ROW[2]] : row === 3 ? [ROW[3]] : row === 4 ? [ROW[4]] : [] });
}

add({ policy: '§3 an appointment class from an R5 CodeableReference serviceType (concept)', name: 'appointment serviceType as CodeableReference (chiropractic 52) → row 2', hooks: ['appointment-book'], orders: [appointment(undefined, { serviceType: [{ concept: coded(SERVICE_TYPE, '52') }] })], record: { conditions: [stenosis()] }, cards: [ROW[2]] });
add({ policy: '§4 appointment-book: every appointment; cards sorted critical, warning, info', name: 'three appointments (lower-back massage, neck massage, chiropractic) → critical, warning, info', hooks: ['appointment-book'], orders: [appointment(coded(SERVICE_TYPE, '25', 'Massage of the lower back'), { comment: 'Lower back' }), appointment(coded(SERVICE_TYPE, '27', 'Myotherapy')), appointment(coded(SERVICE_TYPE, '52', 'Chiropractic'))], record: { conditions: [stenosis()] }, cards: [ROW[2], ROW[3], ROW[4]] });

// The STU3 service-type system is not the §3 system: the display decides, read as the coded member it names.
for (const [code, display, row] of [['25', 'Massage Therapy', 3], ['27', 'Myotherapy', 3], ['32', 'Shiatsu', 3], ['17', 'Bowen Therapy', 3], ['52', 'Chiropractic', 2], ['63', 'Osteopathy', 2], ['65', 'Physiotherapy', 0]] as const) {
  add({ policy: '§3 an appointment with no recognised coding is read by its texts; the displays of the §3 service types name their class (safer reading)', name: `appointment under the STU3 service-type system, "${display}" → ${row ? `row ${row}` : 'no card'}`, hooks: ['appointment-book'], orders: [appointment(coded('http://hl7.org/fhir/service-type', code, display))], record: { conditions: [stenosis()] }, cards: row === 2 ? [ROW[2]] : row === 3 ? [ROW[3]] : [] });
}

// Order statuses, STU3 and R5 forms.
for (const status of ['revoked', 'completed', 'entered-in-error']) {
  add({ policy: `§3 an order with status ${status} is not read`, name: `order ${status} → no card`, hooks: ORDER_HOOKS, orders: [order(undefined, { status })], record: { conditions: [cord()] }, cards: [] });
}
for (const status of ['Completed', 'REVOKED']) {
  add({ policy: '§1 a status written any other way counts as no status, which keeps the alert', name: `order status "${status}" → row 1`, hooks: ['order-sign'], orders: [order(undefined, { status })], record: { conditions: [cord()] }, cards: [ROW[1]] });
}
add({ policy: '§3 an order is a ServiceRequest or its STU3 form ProcedureRequest', name: 'STU3 ProcedureRequest neck massage → row 3', hooks: ORDER_HOOKS, orders: [order(undefined, { resourceType: 'ProcedureRequest' })], record: { conditions: [stenosis()] }, cards: [ROW[3]] });
add({ policy: '§3 ProcedureRequest status completed is not read', name: 'STU3 ProcedureRequest completed → no card', hooks: ORDER_HOOKS, orders: [order(undefined, { resourceType: 'ProcedureRequest', status: 'completed' })], record: { conditions: [cord()] }, cards: [] });
add({ policy: '§3 an R5 order: code as a CodeableReference (code.concept)', name: 'R5 code.concept neck manipulation → row 2', hooks: ORDER_HOOKS, orders: [order({ concept: coded(CPT, '98941') })], record: { conditions: [stenosis()] }, cards: [ROW[2]] });
add({ policy: '§3 a MedicationRequest is no order of §3 (medications are not conflicts)', name: 'MedicationRequest → no card', hooks: ['order-sign', 'order-select'], orders: [{ resourceType: 'MedicationRequest', id: 'mr-1', status: 'draft', subject: { reference: `Patient/${PATIENT}` }, medicationCodeableConcept: text('Baclofen 10 MG Oral Tablet') }], record: { conditions: [cord()] }, cards: [] });

// ---- §1 statuses -------------------------------------------------------------------------------------

const STATUS_CASES: Array<[string, Json, 'active' | 'historical' | 'ignored']> = [
  ['verificationStatus entered-in-error', { verificationStatus: { coding: [{ code: 'entered-in-error' }] } }, 'ignored'],
  ['verificationStatus refuted', { verificationStatus: { coding: [{ code: 'refuted' }] } }, 'ignored'],
  ['STU3 verificationStatus "entered-in-error"', { verificationStatus: 'entered-in-error' }, 'ignored'],
  ['STU3 verificationStatus "refuted"', { verificationStatus: 'refuted' }, 'ignored'],
  ['verificationStatus "ENTERED IN ERROR"', { verificationStatus: 'ENTERED IN ERROR' }, 'active'],
  ['verificationStatus code "Refuted"', { verificationStatus: { coding: [{ code: 'Refuted' }] } }, 'active'],
  ['clinicalStatus inactive', { clinicalStatus: { coding: [{ code: 'inactive' }] } }, 'historical'],
  ['clinicalStatus remission', { clinicalStatus: { coding: [{ code: 'remission' }] } }, 'historical'],
  ['clinicalStatus resolved', { clinicalStatus: { coding: [{ code: 'resolved' }] } }, 'historical'],
  ['STU3 clinicalStatus "resolved"', { clinicalStatus: 'resolved' }, 'historical'],
  ['clinicalStatus "Resolved"', { clinicalStatus: 'Resolved' }, 'active'],
  ['clinicalStatus text "resolved" only', { clinicalStatus: { text: 'resolved' } }, 'active'],
  ['clinicalStatus recurrence', { clinicalStatus: { coding: [{ code: 'recurrence' }] } }, 'active'],
  ['clinicalStatus relapse', { clinicalStatus: { coding: [{ code: 'relapse' }] } }, 'active'],
  ['resolved and unconfirmed (resolved wins)', { clinicalStatus: { coding: [{ code: 'resolved' }] }, verificationStatus: { coding: [{ code: 'unconfirmed' }] } }, 'historical'],
  ['no clinicalStatus, abatementDateTime past', { clinicalStatus: undefined, abatementDateTime: '2025-01-10' }, 'historical'],
  ['no clinicalStatus, abatementDateTime today', { clinicalStatus: undefined, abatementDateTime: '2026-11-24' }, 'historical'],
  ['no clinicalStatus, abatementDateTime tomorrow', { clinicalStatus: undefined, abatementDateTime: '2026-11-25' }, 'active'],
  ['no clinicalStatus, abatement this month (partial: its latest day)', { clinicalStatus: undefined, abatementDateTime: '2026-11' }, 'active'],
  ['no clinicalStatus, abatement last month (partial)', { clinicalStatus: undefined, abatementDateTime: '2026-10' }, 'historical'],
  ['no clinicalStatus, abatement this year (partial)', { clinicalStatus: undefined, abatementDateTime: '2026' }, 'active'],
  ['no clinicalStatus, abatement last year (partial)', { clinicalStatus: undefined, abatementDateTime: '2025' }, 'historical'],
  ['no clinicalStatus, abatementPeriod ending in the future', { clinicalStatus: undefined, abatementPeriod: { start: '2025-01-01', end: '2027-01-01' } }, 'active'],
  ['no clinicalStatus, abatementPeriod ended', { clinicalStatus: undefined, abatementPeriod: { start: '2025-01-01', end: '2025-02-01' } }, 'historical'],
  ['no clinicalStatus, abatementPeriod start only, past', { clinicalStatus: undefined, abatementPeriod: { start: '2025-01-01' } }, 'historical'],
  ['no clinicalStatus, abatementPeriod start only, future', { clinicalStatus: undefined, abatementPeriod: { start: '2027-01-01' } }, 'active'],
  ['no clinicalStatus, abatementAge', { clinicalStatus: undefined, abatementAge: { value: 60, unit: 'a' } }, 'historical'],
  ['no clinicalStatus, abatementRange', { clinicalStatus: undefined, abatementRange: { low: { value: 50, unit: 'a' } } }, 'historical'],
  ['no clinicalStatus, abatementString', { clinicalStatus: undefined, abatementString: 'after physiotherapy' }, 'historical'],
  ['no clinicalStatus, abatementBoolean true', { clinicalStatus: undefined, abatementBoolean: true }, 'historical'],
  ['no clinicalStatus, abatementBoolean false', { clinicalStatus: undefined, abatementBoolean: false }, 'active'],
  ['clinicalStatus active with a past abatement', { abatementDateTime: '2025-01-10' }, 'active'],
  ['clinicalStatus "Resolved" (no status at all) with a past abatement', { clinicalStatus: 'Resolved', abatementDateTime: '2025-01-10' }, 'historical'],
  ['clinicalStatus "ACTIVE" (no status at all) with a past abatement', { clinicalStatus: { coding: [{ code: 'ACTIVE' }] }, abatementDateTime: '2025-01-10' }, 'historical'],
  ['clinicalStatus "Resolved" (no status at all) with a future abatement', { clinicalStatus: 'Resolved', abatementDateTime: '2027-01-10' }, 'active'],
  ['no clinicalStatus, no abatement', { clinicalStatus: undefined }, 'active'],
];
for (const [what, extra, status] of STATUS_CASES) {
  // CORD: active → row 1, historical → treated → row 5 (resolved without surgery), ignored → nothing.
  add({ policy: '§1 Condition status, decided in order; §2 a historical CORD counts as treated', name: `cord compression, ${what} → ${status}`, hooks: ['order-sign', 'patient-view'], record: { conditions: [cord(extra)] }, cards: status === 'active' ? [ROW[1]] : status === 'historical' ? [ROW[5]] : [], ...(status === 'historical' ? { detail: [/spine specialist/i] } : {}) });
  // STENOSIS: active or historical → row 3 (a historical STENOSIS is not treated), ignored → nothing.
  add({ policy: '§1 Condition status; §2 `stenosis` is active, suspected or historical', name: `cervical stenosis, ${what} → ${status}`, hooks: ['order-sign'], record: { conditions: [stenosis(extra)] }, cards: status === 'ignored' ? [] : [ROW[3]] });
}
for (const code of ['unconfirmed', 'provisional', 'differential']) {
  add({ policy: `§1 suspected: verificationStatus ${code}; suspected cord compression counts as active`, name: `cord compression ${code} → row 1, suspected`, hooks: ALL_HOOKS, record: { conditions: [cord({ verificationStatus: { coding: [{ code }] } })] }, cards: [ROW[1]], detail: [SUSPECTED] });
}

// ---- §2 dating -----------------------------------------------------------------------------------------

const decompressionOn = (performed: Json) => procedure(coded(CPT, '63045'), performed);
const DATING: Array<[string, Json, Json, boolean]> = [
  ['decompression after onset', { onsetDateTime: '2024-03-01' }, { performedDateTime: '2024-06-01' }, true],
  ['decompression the same day', { onsetDateTime: '2024-03-01' }, { performedDateTime: '2024-03-01' }, true],
  ['decompression the day before onset', { onsetDateTime: '2024-03-01' }, { performedDateTime: '2024-02-29' }, false],
  ['onset year only, decompression within that year', { onsetDateTime: '2024' }, { performedDateTime: '2024-06-01' }, false],
  ['onset year only, decompression the next year', { onsetDateTime: '2024' }, { performedDateTime: '2025-01-01' }, true],
  ['onset year-month, decompression within that month', { onsetDateTime: '2024-03' }, { performedDateTime: '2024-03-15' }, false],
  ['onset year-month, decompression on its last day', { onsetDateTime: '2024-03' }, { performedDateTime: '2024-03-31' }, true],
  ['decompression year-month, onset its first day', { onsetDateTime: '2024-03-01' }, { performedDateTime: '2024-03' }, true],
  ['decompression year-month, onset its second day', { onsetDateTime: '2024-03-02' }, { performedDateTime: '2024-03' }, false],
  ['decompression year only, onset in that year', { onsetDateTime: '2024-01-01' }, { performedDateTime: '2024' }, true],
  ['decompression year only, onset later that year', { onsetDateTime: '2024-05-01' }, { performedDateTime: '2024' }, false],
  ['same calendar day in different zones', { onsetDateTime: '2024-03-01T23:30:00-05:00' }, { performedDateTime: '2024-03-01T01:00:00+09:00' }, true],
  ['the day as written, not the instant (onset later as written, earlier in UTC)', { onsetDateTime: '2024-03-02T00:30:00+14:00' }, { performedDateTime: '2024-03-01T20:00:00-10:00' }, false],
  ['the day as written (decompression later as written, earlier in UTC)', { onsetDateTime: '2024-03-01T20:00:00-10:00' }, { performedDateTime: '2024-03-02T00:30:00+14:00' }, true],
  ['onsetPeriod start before the decompression', { onsetDateTime: undefined, onsetPeriod: { start: '2024-03-01', end: '2024-09-01' } }, { performedDateTime: '2024-06-01' }, true],
  ['onsetPeriod start after the decompression', { onsetDateTime: undefined, onsetPeriod: { start: '2024-07-01' } }, { performedDateTime: '2024-06-01' }, false],
  ['no onset: recordedDate before the decompression', { onsetDateTime: undefined, recordedDate: '2024-03-01' }, { performedDateTime: '2024-06-01' }, true],
  ['no onset: recordedDate after the decompression', { onsetDateTime: undefined, recordedDate: '2024-07-01T10:00:00Z' }, { performedDateTime: '2024-06-01' }, false],
  ['onsetDateTime wins over recordedDate', { onsetDateTime: '2024-07-01', recordedDate: '2024-03-01' }, { performedDateTime: '2024-06-01' }, false],
  ['performedPeriod by its start (start before onset, end after)', { onsetDateTime: '2024-03-01' }, { performedPeriod: { start: '2024-02-01', end: '2024-04-01' } }, false],
  ['performedPeriod start after onset', { onsetDateTime: '2024-03-01' }, { performedPeriod: { start: '2024-04-01', end: '2024-04-02' } }, true],
  ['no onset and no recordedDate', { onsetDateTime: undefined }, { performedDateTime: '2024-06-01' }, false],
  ['no procedure date', { onsetDateTime: '2024-03-01' }, {}, false],
  ['an Age onset (no date)', { onsetDateTime: undefined, onsetAge: { value: 60, unit: 'a' } }, { performedDateTime: '2024-06-01' }, false],
];
for (const [what, onset, performed, treated] of DATING) {
  add({ policy: '§2 treated: a DECOMPRESSED procedure dated on or after onset (calendar days as written; partial dates: latest onset day, earliest procedure day; missing date: not treated)', name: `stenosis, ${what} → ${treated ? 'row 5' : 'row 3'}`, hooks: ['order-sign'], record: { conditions: [stenosis(onset)], procedures: [decompressionOn(performed)] }, cards: [treated ? ROW[5] : ROW[3]] });
  add({ policy: '§2 treated applies to CORD too', name: `cord compression, ${what} → ${treated ? 'row 5' : 'row 1'}`, hooks: ['order-sign'], record: { conditions: [cord(onset)], procedures: [decompressionOn(performed)] }, cards: [treated ? ROW[5] : ROW[1]] });
}
add({ policy: '§2 undated decompression: "How this was read"', name: 'stenosis with an undated decompression → row 3, said so', hooks: ALL_HOOKS, record: { conditions: [stenosis()], procedures: [decompressionOn({})] }, cards: [ROW[3]], detail: [/without dates/i] });

// ---- §4 row precedence --------------------------------------------------------------------------------

const lumbarMassage = () => massageAt([coded(SCT, '122496007', 'Lumbar spine')]);
add({ policy: '§4 the first row that applies: row 1 over row 3', name: 'cord compression and stenosis, neck massage → row 1', hooks: ALL_HOOKS, record: { conditions: [stenosis(), cord()] }, cards: [ROW[1]] });
add({ policy: '§4 row 1: any class, any site (over row 4)', name: 'cord compression, lumbar massage → row 1', hooks: ORDER_HOOKS, orders: [lumbarMassage()], record: { conditions: [cord(), stenosis()] }, cards: [ROW[1]] });
add({ policy: '§4 row 1 over row 2', name: 'red flag and stenosis, neck manipulation → row 1', hooks: ORDER_HOOKS, orders: [manipulation()], record: { conditions: [stenosis(), urinaryRetention()] }, cards: [ROW[1]] });
add({ policy: '§4 row 1 over row 5', name: 'red flag after decompressed stenosis, lumbar massage → row 1', hooks: ORDER_HOOKS, orders: [lumbarMassage()], record: { conditions: [stenosis(), urinaryRetention()], procedures: [decompressionOn({ performedDateTime: '2024-06-01' })] }, cards: [ROW[1]] });
add({ policy: '§4 row 4: remote site decides over class (manipulation)', name: 'stenosis, lumbar manipulation → row 4', hooks: ORDER_HOOKS, orders: [manipulation({ bodySite: [coded(SCT, '122496007')] })], record: { conditions: [stenosis()] }, cards: [ROW[4]] });
add({ policy: '§4 rows 2–4 when at least one STENOSIS is not treated (row 5 needs every one treated)', name: 'two stenoses, one decompressed after, one with onset after the decompression → row 3', hooks: ['order-sign'], record: { conditions: [stenosis(), stenosis({ onsetDateTime: '2025-01-01' })], procedures: [decompressionOn({ performedDateTime: '2024-06-01' })] }, cards: [ROW[3]] });
add({ policy: '§2 a historical CORD is treated, a historical STENOSIS is not', name: 'resolved cord compression and resolved stenosis → row 3', hooks: ['order-sign'], record: { conditions: [cord({ clinicalStatus: 'resolved' }), stenosis({ clinicalStatus: 'resolved' })] }, cards: [ROW[3]], detail: [/history/i] });
add({ policy: '§4 row 5: every CORD and STENOSIS treated, decompression dated', name: 'cord compression and stenosis both decompressed → row 5, surgeon', hooks: ['order-sign'], record: { conditions: [cord(), stenosis()], procedures: [decompressionOn({ performedDateTime: '2024-06-01' })] }, cards: [ROW[5]], detail: [/operating surgeon/i] });
add({ policy: '§5 row 5 after a resolved cord compression with no surgery: the treating spine specialist', name: 'resolved cord compression only → row 5, spine specialist', hooks: ALL_HOOKS, record: { conditions: [cord({ clinicalStatus: 'resolved' })] }, cards: [ROW[5]], detail: [/spine specialist/i], notDetail: [/operating surgeon/i] });
add({ policy: '§4 row 5 needs a CORD or STENOSIS condition present', name: 'decompression with no condition → no card', hooks: ALL_HOOKS, record: { procedures: [decompressionOn({ performedDateTime: '2024-06-01' })] }, cards: [] });
add({ policy: '§4 row 5 needs the conditions not ignored', name: 'refuted stenosis with a decompression → no card', hooks: ['order-sign'], record: { conditions: [stenosis({ verificationStatus: { coding: [{ code: 'refuted' }] } })], procedures: [decompressionOn({ performedDateTime: '2024-06-01' })] }, cards: [] });
add({ policy: '§5 cards come critical, then warning, then info; within one indicator, in the order of the orders', name: 'lumbar massage, neck massage, neck manipulation → critical, warning, info', hooks: ORDER_HOOKS, orders: [order(coded(CPT, '97124', 'Massage of the lower back'), { bodySite: [coded(SCT, '122496007')] }), order(), manipulation()], record: { conditions: [stenosis()] }, cards: [ROW[2], ROW[3], ROW[4]] });
add({ policy: '§4 one card per conflicting order', name: 'two neck massages → two warnings', hooks: ALL_HOOKS, orders: [order(), order(local('Soft tissue massage'))], record: { conditions: [stenosis()] }, cards: [ROW[3], ROW[3]] });
add({ policy: 'patient-view never alerts on diagnoses alone; no card without a conflicting order', name: 'cord compression, exercise order only → no card', hooks: ALL_HOOKS, orders: [order(coded(CPT, '97110', 'Therapeutic exercise'))], record: { conditions: [cord()] }, cards: [] });
add({ policy: '§4 no orders: no card', name: 'cord compression, no orders → no card', hooks: ALL_HOOKS, orders: [], record: { conditions: [cord()] }, cards: [] });

// ---- §5 on vague, long records: every card still under 140 characters and 120 words --------------------

const LONG_ORDER = order(text('Therapeutic soft tissue massage of the neck, shoulders and upper back, weekly for eight weeks'), { bodySite: [{ text: 'Some unknown region description' }] });
const BARE_MANIPULATION = without(order(coded(CPT, '98942')), 'bodySite');
const VAGUE_RECORDS: Array<[string, Json[], string]> = [
  ['suspected cord compression with bone metastases', [cord({ verificationStatus: 'provisional' }), condition(coded(ICD, 'C79.51', 'Secondary malignant neoplasm of bone'))], ROW[1]],
  ['suspected red flag, suspected stenosis, region unknown, lung cancer, radiculopathy', [condition(text('possible urinary retention')), condition(text('r/o cervical stenosis, region unknown')), condition(coded(ICD, 'M48.00')), condition(coded(ICD, 'C34.90', 'Malignant neoplasm of unspecified part of unspecified bronchus or lung')), condition(coded(ICD, 'M54.12'))], ROW[1]],
  ['a long unconfirmed myelopathy text and a long metastatic text', [condition(text('Cervical spondylotic myelopathy with multilevel canal stenosis and cord signal change on MRI awaiting surgical review'), { verificationStatus: 'unconfirmed' }), condition(text('Metastatic renal cell carcinoma to the thoracic and lumbar spine with pathological fracture'))], ROW[1]],
  ['history of stenosis without a region, suspected stenosis', [condition(coded(ICD, 'M48.00'), { clinicalStatus: 'resolved' }), condition(text('suspected cervical stenosis C5-C6 and C6-C7 with foraminal narrowing'))], ''],
];
for (const [what, conditions, row1] of VAGUE_RECORDS) {
  for (const [orderName, vague, stenosisRow] of [['a long massage order at an unrecognised site', LONG_ORDER, ROW[3]], ['a manipulation with no body site', BARE_MANIPULATION, ROW[2]]] as const) {
    add({ policy: '§5 summary under 140 characters, whole words; detail at most 120 words, leading with what to do and the red flags', name: `${what}, ${orderName}, undated decompression → §5 holds`, hooks: ALL_HOOKS, orders: [vague], record: { conditions, procedures: [decompressionOn({})] }, cards: [row1 || stenosisRow] });
  }
}

// ---- §1 whose resources ----------------------------------------------------------------------------------

const SUBJECTS: Array<[string, Json, boolean]> = [
  ['absolute URL', { subject: { reference: `https://ehr.example.org/fhir/Patient/${PATIENT}` } }, true],
  ['absolute URL with _history', { subject: { reference: `https://ehr.example.org/fhir/Patient/${PATIENT}/_history/3` } }, true],
  ['relative with _history', { subject: { reference: `Patient/${PATIENT}/_history/3` } }, true],
  ['DSTU2 patient field', { subject: undefined, patient: { reference: `Patient/${PATIENT}` } }, true],
  ['another patient', { subject: { reference: 'Patient/someone-else' } }, false],
  ['another patient whose id starts with ours', { subject: { reference: `Patient/${PATIENT}-2` } }, false],
  ['another patient by absolute URL', { subject: { reference: `https://ehr.example.org/fhir/Patient/x${PATIENT}` } }, false],
  ['a subject with no reference', { subject: { display: 'Somebody' } }, false],
  ['no subject at all', { subject: undefined }, false],
];
for (const [how, subject, own] of SUBJECTS) {
  add({ policy: '§1 a resource is considered only if it belongs to the patient (relative, absolute, _history)', name: `cord compression Condition with ${how} → ${own ? 'row 1' : 'no card'}`, hooks: ALL_HOOKS, record: { conditions: [cord(subject)] }, cards: own ? [ROW[1]] : [] });
  add({ policy: '§1 a Procedure of another patient does not treat', name: `decompression with ${how} → ${own ? 'row 5' : 'row 3'}`, hooks: ['order-sign'], record: { conditions: [stenosis()], procedures: [decompressionOn({ performedDateTime: '2024-06-01', ...subject })] }, cards: [own ? ROW[5] : ROW[3]] });
}
for (const [how, subject, own] of SUBJECTS) {
  // A draft order with no subject counts (§1); on patient-view the orders are the patient's own.
  const counted = own || how === 'no subject at all';
  add({ policy: '§1 a draft order with no subject counts; one of another patient is ignored', name: `draft neck massage with ${how} → ${counted ? 'row 3' : 'no card'}`, hooks: ['order-sign', 'order-select'], orders: [order(undefined, subject)], record: { conditions: [stenosis()] }, cards: counted ? [ROW[3]] : [] });
}
add({ policy: '§1 resources of another patient are ignored (context patientId another patient)', name: 'request for another patient → no card', hooks: ALL_HOOKS, record: { conditions: [cord()] }, cards: [], patientId: 'someone-else' });
add({ policy: 'a patientId in reference form names the same patient', name: 'context patientId "Patient/{id}" → row 1', hooks: ALL_HOOKS, record: { conditions: [cord()] }, cards: [ROW[1]], patientId: `Patient/${PATIENT}` });

// ---- the run ---------------------------------------------------------------------------------------------

/** The orders a hook is sent for a case: appointments on appointment-book (an order becomes one). */
function ordersFor(hook: HookName, c: Case): Json[] {
  const orders = c.orders ?? [order()];
  if (hook === 'appointment-book') return orders.map((o) => (o['resourceType'] === 'Appointment' ? o : appointmentFor(o)));
  return orders.filter((o) => o['resourceType'] !== 'Appointment');
}

let app: Express;
beforeAll(() => {
  app = buildApp();
});

const runs = cases.flatMap((c) => c.hooks.map((hook) => ({ title: `${hook}: ${c.name}`, hook, c })));

describe('clinical policy matrix (§1–§4, each card held to §5)', () => {
  it('has no two cases of the same name', () => {
    const titles = runs.map((r) => r.title);
    expect(titles.filter((t, i) => titles.indexOf(t) !== i)).toEqual([]);
  });

  it.each(runs)('$title', async ({ hook, c }) => {
    const body = requestFor(hook, ordersFor(hook, c), c.record, c.patientId);
    const response = await request(app).post(`/cds-services/${SERVICE_IDS[hook]}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
    const context = `Policy: ${c.policy}\nCase: ${c.name} (${hook})`;
    try {
      expect(response.status).toBe(200);
      const cards = parseCards(response.body);
      expect(cards.map((card) => card.source.topic?.code)).toEqual([...c.cards]);
      for (const card of cards) {
        for (const pattern of c.detail ?? []) expect(card.detail ?? '').toMatch(pattern);
        for (const pattern of c.notDetail ?? []) expect(card.detail ?? '').not.toMatch(pattern);
      }
      if (c.patientId !== undefined) return;
      // §5 for every card, about the order it names.
      const fixture = fixtureOf(c.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase(), hook, body);
      for (const resource of ordersOf(fixture)) {
        const card = cardFor(cards, resource);
        if (card) expectCardFollowsPolicy(card, card.source.topic?.code ?? '', resource, fixture);
      }
    } catch (error) {
      if (error instanceof Error) error.message = `${context}\n\n${error.message}`;
      throw error;
    }
  });
});

describe('order-select scope (§4: only the orders named in selections)', () => {
  const massage = order(coded(CPT, '97124', 'Massage therapy'));
  const exercise = order(coded(CPT, '97110', 'Therapeutic exercise'));
  const withSelections = (selections: readonly string[]) => {
    const body = requestFor('order-sign', [exercise, massage], { conditions: [cord()] });
    return { ...body, hook: 'order-select', context: { ...(body['context'] as Json), selections } };
  };
  const post = async (body: Json) => {
    const response = await request(app).post(`/cds-services/${SERVICE_IDS['order-select']}`).send(body);
    expect(response.status).toBe(200);
    return parseCards(response.body).map((card) => card.source.topic?.code);
  };
  it('answers for a conflicting order selected by an absolute URL', async () => {
    expect(await post(withSelections([`https://ehr.example.org/fhir/ServiceRequest/${String(massage['id'])}`]))).toEqual([ROW[1]]);
  });
  it('answers nothing when only the non-conflicting order is selected, although a conflicting one is drafted', async () => {
    expect(await post(withSelections([`ServiceRequest/${String(exercise['id'])}`]))).toEqual([]);
  });
  it('answers nothing for a selection that names no draft order', async () => {
    expect(await post(withSelections(['ServiceRequest/not-drafted']))).toEqual([]);
  });
  it('answers nothing for empty selections (no error)', async () => {
    expect(await post(withSelections([]))).toEqual([]);
  });
});

describe('patient-view scope (§4: the existing orders; never on diagnoses alone)', () => {
  it('answers nothing when serviceRequests is empty, whatever the diagnoses', async () => {
    const body = requestFor('patient-view', [], { conditions: [cord(), stenosis(), urinaryRetention(), condition(coded(ICD, 'C79.51'))] });
    const response = await request(app).post(`/cds-services/${SERVICE_IDS['patient-view']}`).send(body);
    expect(response.status).toBe(200);
    expect(parseCards(response.body)).toEqual([]);
  });
  it('reads the STU3 ProcedureRequest on the chart and offers to revoke it', async () => {
    const existing = order(coded(CPT, '97140', 'Manual therapy techniques'), { resourceType: 'ProcedureRequest', status: 'active' });
    const body = requestFor('patient-view', [existing], { conditions: [cord()] });
    const response = await request(app).post(`/cds-services/${SERVICE_IDS['patient-view']}`).send(body);
    expect(response.status).toBe(200);
    const [card, ...others] = parseCards(response.body);
    expect(others).toEqual([]);
    expect(card?.source.topic?.code).toBe(ROW[1]);
    const update = (card?.suggestions ?? []).flatMap((s) => s.actions ?? []).find((a) => a.type === 'update');
    expect(update?.resource).toMatchObject({ resourceType: 'ProcedureRequest', id: existing['id'], status: 'revoked' });
  });
});
