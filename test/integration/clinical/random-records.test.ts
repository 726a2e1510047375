/**
 * Records built at random from the value sets and the text rules, as real EHRs send them (codes
 * dotted, undotted, lower case or by OID; text with and without negation and region clauses;
 * statuses as codings and as plain strings), checked against invariants that hold whatever the
 * record (clinical-policy §1–§4). The generator is seeded, so a failure names the seed and the
 * record index and reproduces exactly.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { expectValidCdsResponse, type CdsResponse } from '../../helpers/cds-response-schema.js';
import { buildApp, HOOKS, PROJECT_ROOT, SERVICE_IDS, type HookName } from './support.js';

type Json = Record<string, unknown>;

const SEED = 20261201;
const RECORDS = 300;
const PATIENT = 'pt-random-1';

/** mulberry32: a small seeded PRNG, enough to spread the cases and replay them. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ValueSet = z.looseObject({
  extension: z.array(z.looseObject({ url: z.string(), valueCode: z.string().optional() })),
  compose: z.looseObject({ include: z.array(z.looseObject({ system: z.string(), concept: z.array(z.looseObject({ code: z.string(), display: z.string() })).optional() })) }),
});
const TextRules = z.looseObject({
  cues: z.looseObject({ negationBefore: z.array(z.string()) }),
  qualifiers: z.record(z.string(), z.array(z.string())),
  classes: z.record(z.string(), z.array(z.looseObject({ phrase: z.string(), requires: z.string().optional() }))),
  bodySite: z.looseObject({ cervical: z.array(z.string()), remote: z.array(z.string()) }),
});
const CodeSystems = z.looseObject({ systems: z.array(z.looseObject({ uri: z.string(), aliases: z.array(z.string()) })) });

interface Member {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

const knowledgeDir = join(PROJECT_ROOT, 'knowledge');
const membersByClass = new Map<string, Member[]>();
for (const name of readdirSync(join(knowledgeDir, 'valuesets'))) {
  const vs = ValueSet.parse(JSON.parse(readFileSync(join(knowledgeDir, 'valuesets', name), 'utf8')));
  const cls = vs.extension.find((ext) => ext.url.endsWith(':policy-class'))?.valueCode ?? '';
  const list = membersByClass.get(cls) ?? [];
  for (const include of vs.compose.include) for (const concept of include.concept ?? []) list.push({ system: include.system, ...concept });
  membersByClass.set(cls, list);
}
const rules = TextRules.parse(JSON.parse(readFileSync(join(knowledgeDir, 'text-rules.json'), 'utf8')));
const aliases = new Map(CodeSystems.parse(JSON.parse(readFileSync(join(knowledgeDir, 'code-systems.json'), 'utf8'))).systems.map((s) => [s.uri, s.aliases]));

const CONDITION_CLASSES = ['CORD', 'STENOSIS', 'RADICULOPATHY', 'RED_FLAG', 'MALIGNANT', 'NOT_TRIGGER'];
const THERAPY_CLASSES = ['MASSAGE', 'MANUAL', 'MANIPULATION'];
const CLINICAL = ['active', 'recurrence', 'resolved', 'inactive', 'remission', 'Resolved', 'ACTIVE'];
const VERIFICATION = ['confirmed', 'provisional', 'unconfirmed', 'differential', 'Refuted'];
const REGION_CLAUSES = ['cervical region', 'C5-C6 level', 'lumbar region', 'multiple sites', 'thoracic region'];
const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';

class Generator {
  constructor(private readonly random: () => number) {}

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.random() * items.length)];
    if (item === undefined) throw new Error('nothing to pick from');
    return item;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  /** A member coding: the URI or an alias of its system; ICD-10-CM dotted, undotted or lower case. */
  coding(member: Member): Json {
    const system = this.chance(0.3) ? this.pick(aliases.get(member.system) ?? [member.system]) : member.system;
    let code = member.code;
    if (member.system === ICD && this.chance(0.4)) code = code.replace('.', '');
    if (member.system === ICD && this.chance(0.2)) code = code.toLowerCase();
    return { system, code, ...(this.chance(0.5) ? { display: member.display } : {}) };
  }

  /** A phrase of the class with its qualifier word when it needs one, sometimes with a region clause. */
  phrase(cls: string): string {
    const entry = this.pick(rules.classes[cls] ?? [{ phrase: 'massage' }]);
    const qualifier = entry.requires ? `${this.pick(rules.qualifiers[entry.requires] ?? [''])} ` : '';
    const region = this.chance(0.3) ? `, ${this.pick(REGION_CLAUSES)}` : '';
    const suspected = this.chance(0.15) ? 'possible ' : '';
    return `${suspected}${qualifier}${entry.phrase}${region}`;
  }

  concept(classes: readonly string[]): Json {
    const cls = this.pick(classes);
    const members = membersByClass.get(cls) ?? [];
    if (members.length > 0 && this.chance(0.55)) return { coding: [this.coding(this.pick(members))] };
    const text = this.phrase(cls);
    return this.chance(0.5) ? { text } : { coding: [{ system: 'urn:local:problems', code: 'L-1', display: text }] };
  }

  status(codes: readonly string[], system: string): unknown {
    const code = this.pick(codes);
    return this.chance(0.5) ? code : { coding: [{ system, code }] };
  }

  condition(index: number): Json {
    const condition: Json = {
      resourceType: 'Condition',
      id: `cond-${index}`,
      subject: { reference: `Patient/${PATIENT}` },
      code: this.concept(CONDITION_CLASSES),
      onsetDateTime: this.pick(['2023-05-01', '2024-03', '2025-10-12']),
    };
    if (this.chance(0.7)) condition['clinicalStatus'] = this.status(CLINICAL, 'http://terminology.hl7.org/CodeSystem/condition-clinical');
    if (this.chance(0.6)) condition['verificationStatus'] = this.status(VERIFICATION, 'http://terminology.hl7.org/CodeSystem/condition-ver-status');
    if (this.chance(0.1)) condition['abatementBoolean'] = this.chance(0.5);
    return condition;
  }

  procedure(): Json {
    const members = membersByClass.get('DECOMPRESSED') ?? [];
    return {
      resourceType: 'Procedure',
      id: 'proc-1',
      subject: { reference: `Patient/${PATIENT}` },
      status: this.pick(['completed', 'Completed', 'in-progress']),
      code: members.length > 0 && this.chance(0.6) ? { coding: [this.coding(this.pick(members))] } : { text: this.phrase('DECOMPRESSED') },
      performedDateTime: this.pick(['2024-06-01', '2022-01-15']),
    };
  }

  siteText(): string {
    return this.pick([...rules.bodySite.cervical, ...rules.bodySite.remote, 'back', 'spine']);
  }

  order(hook: HookName): Json {
    const concept = this.concept(THERAPY_CLASSES);
    if (hook === 'appointment-book') {
      return {
        resourceType: 'Appointment',
        id: 'appt-1',
        status: this.pick(['proposed', 'pending', 'booked']),
        serviceType: [concept],
        ...(this.chance(0.6) ? { comment: this.siteText() } : {}),
        participant: [{ actor: { reference: `Patient/${PATIENT}` }, status: 'accepted' }],
      };
    }
    return {
      resourceType: 'ServiceRequest',
      id: 'sr-1',
      status: hook === 'patient-view' ? 'active' : 'draft',
      intent: 'order',
      subject: { reference: `Patient/${PATIENT}` },
      code: concept,
      ...(this.chance(0.6) ? { bodySite: [{ text: this.siteText() }] } : {}),
      authoredOn: '2026-11-20',
    };
  }
}

interface RandomRecord {
  readonly hook: HookName;
  readonly conditions: Json[];
  readonly procedures: Json[];
  readonly order: Json;
}

function buildRecord(gen: Generator): RandomRecord {
  const hook = gen.pick(HOOKS);
  const count = 1 + Math.floor(gen.chance(0.5) ? 0 : gen.chance(0.5) ? 1 : 2);
  return {
    hook,
    conditions: Array.from({ length: count }, (_, i) => gen.condition(i)),
    procedures: gen.chance(0.3) ? [gen.procedure()] : [],
    order: gen.order(hook),
  };
}

function searchset(resources: readonly Json[], note: boolean): Json {
  const entry: Json[] = resources.map((resource) => ({ resource }));
  if (note) entry.push({ resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational' }] }, search: { mode: 'outcome' } });
  return { resourceType: 'Bundle', type: 'searchset', ...(entry.length > 0 ? { entry } : {}) };
}

function requestOf(record: RandomRecord, index: number): Json {
  const context: Json = { userId: 'Practitioner/pr-1', patientId: PATIENT, encounterId: 'enc-1' };
  const bundle = { resourceType: 'Bundle', entry: [{ resource: record.order }] };
  if (record.hook === 'appointment-book') context['appointments'] = bundle;
  else if (record.hook !== 'patient-view') context['draftOrders'] = bundle;
  if (record.hook === 'order-select') context['selections'] = [`ServiceRequest/${String(record.order['id'])}`];
  const prefetch: Json = {
    patient: { resourceType: 'Patient', id: PATIENT },
    conditions: searchset(record.conditions, index % 5 === 0),
    procedures: searchset(record.procedures, index % 7 === 0),
  };
  if (record.hook === 'patient-view') prefetch['serviceRequests'] = searchset([record.order], false);
  return { hook: record.hook, hookInstance: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`, context, prefetch };
}

const RANK = { info: 1, warning: 2, critical: 3 } as const;
const highest = (response: CdsResponse): number => Math.max(0, ...response.cards.map((card) => RANK[card.indicator]));

/** The record with a negation put before the text of every text-read condition. */
function negated(record: RandomRecord, negation: string): RandomRecord {
  const conditions = record.conditions.map((condition) => {
    const code = z.looseObject({ text: z.string().optional(), coding: z.array(z.looseObject({ display: z.string().optional() })).optional() }).parse(condition['code']);
    if (code.text) return { ...condition, code: { ...code, text: `${negation} ${code.text}` } };
    const coding = (code.coding ?? []).map((c) => (c.display ? { ...c, display: `${negation} ${c.display}` } : c));
    return { ...condition, code: { ...code, coding } };
  });
  return { ...record, conditions };
}

function enteredInError(record: RandomRecord): RandomRecord {
  const status = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] };
  return { ...record, conditions: record.conditions.map((condition) => ({ ...condition, verificationStatus: status })) };
}

let app: Express;
beforeAll(() => {
  app = buildApp();
});

async function call(record: RandomRecord, index: number): Promise<CdsResponse> {
  const response = await request(app)
    .post(`/cds-services/${SERVICE_IDS[record.hook]}`)
    .set('Content-Type', 'application/json')
    .send(JSON.stringify(requestOf(record, index)));
  expect(response.status).toBe(200);
  return expectValidCdsResponse(response.body);
}

describe(`random records (seed ${SEED}, ${RECORDS} records)`, () => {
  it('answers every record with a valid response; a negation never raises the indicator; entered-in-error never keeps a card', async () => {
    const gen = new Generator(prng(SEED));
    let withCards = 0;
    for (let index = 0; index < RECORDS; index += 1) {
      const record = buildRecord(gen);
      const where = `seed ${SEED}, record ${index}: ${JSON.stringify(record)}`;
      try {
        const original = await call(record, index);
        if (original.cards.length > 0) withCards += 1;
        const withNegation = await call(negated(record, gen.pick(rules.cues.negationBefore)), index);
        expect(highest(withNegation)).toBeLessThanOrEqual(highest(original));
        const erased = await call(enteredInError(record), index);
        expect(erased.cards).toEqual([]);
      } catch (error) {
        if (error instanceof Error) error.message = `${where}\n\n${error.message}`;
        throw error;
      }
    }
    // The generator has to reach the decision table, or the invariants say nothing.
    expect(withCards).toBeGreaterThan(RECORDS / 10);
  }, 120_000);
});
