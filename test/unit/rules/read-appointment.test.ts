/** clinical-policy §3: how a proposed appointment is read (status, patient, class, site). */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadKnowledge, type Knowledge } from '../../../src/knowledge/load-knowledge.js';
import { isPatientsAppointment, readAppointment } from '../../../src/rules/appointment.js';

const PATIENT = 'pt-1';
const ST = 'http://terminology.hl7.org/CodeSystem/service-type';
const CPT = 'http://www.ama-assn.org/go/cpt';

let knowledge: Knowledge;
beforeAll(() => {
  knowledge = loadKnowledge();
});

const appointment = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Appointment',
  id: 'appt-1',
  status: 'proposed',
  serviceType: [{ coding: [{ system: ST, code: '25', display: 'Massage Therapy' }] }],
  participant: [{ actor: { reference: `Patient/${PATIENT}` } }],
  ...fields,
});
const read = (fields: Record<string, unknown> = {}) => readAppointment(appointment(fields), PATIENT, knowledge);
const classesOf = (fields: Record<string, unknown>) => [...(read(fields)?.classes ?? [])];

describe('readAppointment', () => {
  it('reads a massage appointment into the order shape, with its resource type and id', () => {
    expect(read()).toMatchObject({ resourceType: 'Appointment', id: 'appt-1', label: 'Massage Therapy', matchedBy: 'code', site: 'unspecified' });
  });

  it.each([
    ['25', ['MASSAGE']],
    ['27', ['MASSAGE']],
    ['32', ['MASSAGE']],
    ['17', ['MANUAL']],
    ['52', ['MANIPULATION']],
    ['63', ['MANIPULATION']],
    ['65', []],
  ])('reads HL7 service type %s as %p', (code, classes) => {
    expect(classesOf({ serviceType: [{ coding: [{ system: ST, code }] }] })).toEqual(classes);
  });

  it('reads the order codes, appointmentType, specialty and reasonCode too', () => {
    expect(classesOf({ serviceType: undefined, appointmentType: { coding: [{ system: CPT, code: '98940' }] } })).toEqual(['MANIPULATION']);
    expect(classesOf({ serviceType: undefined, specialty: [{ coding: [{ system: ST, code: '52' }] }] })).toEqual(['MANIPULATION']);
    expect(classesOf({ serviceType: undefined, reasonCode: [{ coding: [{ system: CPT, code: '97124' }] }] })).toEqual(['MASSAGE']);
  });

  it('reads texts and the description only when no coding is recognised', () => {
    expect(classesOf({ serviceType: [{ text: 'Chiropractic adjustment, spine' }] })).toEqual(['MANIPULATION']);
    expect(classesOf({ serviceType: undefined, description: 'Deep tissue massage' })).toEqual(['MASSAGE']);
    expect(classesOf({ serviceType: [{ coding: [{ system: ST, code: '65' }] }], description: 'Physiotherapy with neck massage' })).toEqual([]);
  });

  it.each([
    [{ comment: 'Neck and shoulders' }, 'cervical'],
    [{ comment: 'Lower back' }, 'remote'],
    [{ description: 'Massage, C5-C6 paraspinals' }, 'cervical'],
    [{ serviceType: [{ text: 'Shoulder massage' }] }, 'remote'],
    [{ comment: 'Bring a towel' }, 'unspecified'],
    [{}, 'unspecified'],
  ])('reads the site of %p as %s', (fields, site) => {
    expect(read(fields)?.site).toBe(site);
  });

  it.each([
    ['proposed', true],
    ['pending', true],
    ['booked', true],
    ['cancelled', false],
    ['fulfilled', false],
    ['noshow', false],
    ['entered-in-error', false],
    ['Cancelled', true],
    [undefined, true],
  ])('reads an appointment with status %p: %p', (status, read_) => {
    expect(read({ status }) !== undefined).toBe(read_);
  });

  it('skips another resource type', () => {
    expect(read({ resourceType: 'ServiceRequest' })).toBeUndefined();
  });
});

describe('isPatientsAppointment', () => {
  it.each([
    [[{ actor: { reference: `Patient/${PATIENT}` } }], true],
    [[{ actor: { reference: `https://ehr.example/fhir/Patient/${PATIENT}/_history/2` } }], true],
    [[{ actor: { reference: 'Practitioner/pr-1' } }, { actor: { reference: 'Patient/someone-else' } }], false],
    [[{ actor: { reference: 'Practitioner/pr-1' } }], true],
    [[], true],
    [undefined, true],
  ])('reads participants %p as the patient\'s: %p', (participant, own) => {
    expect(isPatientsAppointment({ resourceType: 'Appointment', participant }, PATIENT)).toBe(own);
  });
});
