import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { KnowledgeError, type Knowledge } from '../knowledge/load-knowledge.js';
import { projectRoot } from '../paths.js';

/** HL7 service types (Appointment.serviceType), as appointment-book requests carry the therapy. */
export const SERVICE_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/service-type';

const Resource = z.looseObject({ resourceType: z.string().min(1), id: z.string().min(1) });

/** A sample patient under web/samples/: a title naming its main finding and the record as a FHIR Bundle. */
const SampleFile = z.strictObject({
  title: z.string().min(1),
  row: z.number().int().min(1).max(5).nullable(),
  about: z.string().min(1),
  bundle: z.looseObject({
    resourceType: z.literal('Bundle'),
    type: z.literal('collection'),
    entry: z.array(z.looseObject({ resource: Resource })).min(1),
  }),
});
export type SampleFile = z.infer<typeof SampleFile>;

const CodedChoice = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  label: z.string().min(1),
  valueSet: z.string().min(1).optional(),
  code: z.string().min(1).optional(),
  text: z.string().min(1).optional(),
});

/** The Order and Body site choices of the /try page, by value set and code (displays come from the value sets). */
const TryOptionsFile = z.strictObject({ orders: z.array(CodedChoice).min(1), bodySites: z.array(CodedChoice).min(1) });

export interface Coding {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

export interface Choice {
  readonly id: string;
  readonly label: string;
  readonly coding?: Coding;
  readonly text?: string;
  /** The HL7 service type of the choice's class, when its value set has one (for appointment-book). */
  readonly serviceType?: Coding;
}

export interface Sample extends SampleFile {
  readonly id: string;
}

/** Everything the /try page serves, read and checked once at start-up. */
export interface TryAssets {
  readonly html: string;
  readonly script: string;
  readonly style: string;
  readonly samples: readonly Sample[];
  readonly options: { readonly orders: readonly Choice[]; readonly bodySites: readonly Choice[] };
}

function readJson<S extends z.ZodType>(schema: S, file: string): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new KnowledgeError(`${file}: cannot be read as JSON (${error instanceof Error ? error.name : 'error'})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new KnowledgeError(`${file}: ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Every coding of a value set as loaded, by `system|code`, and its service types. */
function conceptsOf(knowledge: Knowledge, valueSetId: string): { codings: Coding[]; serviceTypes: Coding[] } | undefined {
  const vs = knowledge.valueSets.find((candidate) => candidate.id === valueSetId);
  if (!vs) return undefined;
  const codings = vs.resource.compose.include.flatMap((include) =>
    (include.concept ?? []).map((concept) => ({ system: include.system, code: concept.code, display: concept.display })),
  );
  return { codings, serviceTypes: codings.filter((coding) => coding.system === SERVICE_TYPE_SYSTEM) };
}

/** Resolves a choice's code against its value set: a code the knowledge does not hold stops start-up. */
function resolveChoice(choice: z.infer<typeof CodedChoice>, knowledge: Knowledge, where: string): Choice {
  const concepts = choice.valueSet ? conceptsOf(knowledge, choice.valueSet) : undefined;
  if (choice.valueSet && !concepts) throw new KnowledgeError(`${where}: ${choice.id}: unknown value set ${choice.valueSet}`);
  let coding: Coding | undefined;
  if (choice.code) {
    coding = concepts?.codings.find((candidate) => candidate.code === choice.code && candidate.system !== SERVICE_TYPE_SYSTEM);
    if (!coding) throw new KnowledgeError(`${where}: ${choice.id}: code ${choice.code} is not in value set ${choice.valueSet ?? '(none)'}`);
  }
  const serviceType = concepts?.serviceTypes[0];
  return {
    id: choice.id,
    label: choice.label,
    ...(coding ? { coding } : {}),
    ...(choice.text ? { text: choice.text } : {}),
    ...(serviceType ? { serviceType } : {}),
  };
}

/** Reads the /try page, its sample patients (web/samples/*.json) and its order choices, checked against the knowledge. */
export function loadTryAssets(knowledge: Knowledge, root: string = projectRoot()): TryAssets {
  const dir = join(root, 'web');
  const read = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      throw new KnowledgeError(`web/${name}: cannot be read`);
    }
  };
  const samplesDir = join(dir, 'samples');
  const samples = readdirSync(samplesDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ id: basename(name, '.json'), ...readJson(SampleFile, join(samplesDir, name)) }));
  if (samples.length === 0) throw new KnowledgeError('web/samples: no sample patients');
  const options = readJson(TryOptionsFile, join(dir, 'try-options.json'));
  return Object.freeze({
    html: read('try.html'),
    script: read('try.js'),
    style: read('try.css'),
    samples,
    options: {
      orders: options.orders.map((choice) => resolveChoice(choice, knowledge, 'web/try-options.json: orders')),
      bodySites: options.bodySites.map((choice) => resolveChoice(choice, knowledge, 'web/try-options.json: bodySites')),
    },
  });
}
