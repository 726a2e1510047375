import { z } from 'zod';
import { ALL_CLASSES, TEXT_CLASSES } from './classes.js';

/** Our own knowledge files are parsed strictly: an unknown field is a typo until proven otherwise. */
const Extension = z.strictObject({
  url: z.string().min(1),
  valueBoolean: z.boolean().optional(),
  valueCode: z.string().min(1).optional(),
  valueString: z.string().min(1).optional(),
});

const Concept = z.strictObject({
  code: z.string().min(1),
  display: z.string().min(1),
  extension: z.array(Extension).optional(),
});

const Filter = z.strictObject({
  property: z.literal('code'),
  op: z.literal('regex'),
  value: z.string().min(1).refine((pattern) => {
    try {
      new RegExp(pattern);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression'),
});

const Include = z
  .strictObject({
    system: z.url(),
    concept: z.array(Concept).min(1).optional(),
    filter: z.array(Filter).min(1).optional(),
  })
  .refine((include) => (include.concept === undefined) !== (include.filter === undefined), {
    message: 'an include needs either concept or filter, not both',
  });

/** A FHIR R4 ValueSet as this project writes them (a subset of the resource). */
export const ValueSetFile = z.strictObject({
  resourceType: z.literal('ValueSet'),
  id: z.string().regex(/^[a-z0-9-]+$/),
  url: z.string().min(1),
  version: z.string().min(1),
  name: z.string().min(1),
  title: z.string().min(1),
  status: z.enum(['draft', 'active', 'retired']),
  experimental: z.boolean(),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  publisher: z.string().min(1),
  description: z.string().min(1),
  useContext: z.array(z.unknown()).optional(),
  extension: z.array(Extension).min(1),
  compose: z.strictObject({ include: z.array(Include).min(1) }),
});
export type ValueSetFile = z.infer<typeof ValueSetFile>;
export const KNOWLEDGE_CLASS = z.enum(ALL_CLASSES);

const Phrase = z.strictObject({
  phrase: z.string().trim().min(1),
  requires: z.string().min(1).optional(),
  /** A qualifier list that, named in the same clause, stops the phrase (stenosis of the uterine cervix). */
  unless: z.string().min(1).optional(),
  saferReading: z.string().min(1).optional(),
});

export const TextRulesFile = z
  .strictObject({
    version: z.string().min(1),
    description: z.string().min(1),
    cues: z.strictObject({
      negationBefore: z.array(z.string().min(1)).min(1),
      negationAfter: z.array(z.string().min(1)).min(1),
      suspicionBefore: z.array(z.string().min(1)).min(1),
      suspicionRightAfter: z.array(z.string().min(1)),
    }),
    qualifiers: z.record(z.string(), z.array(z.string().min(1)).min(1)),
    classes: z.partialRecord(z.enum(TEXT_CLASSES), z.array(Phrase).min(1)),
    bodySite: z.strictObject({
      cervical: z.array(z.string().min(1)).min(1),
      unspecifiedExactly: z.array(z.string().min(1)).min(1),
      remote: z.array(z.string().min(1)).min(1),
    }),
    /** Besides the body-site words: a clause made only of these joins the clause before it (clinical policy §1). */
    clauseJoin: z.strictObject({
      levels: z.array(z.string().regex(/^[a-z][0-9]{1,2}$/)).min(1),
      words: z.array(z.string().regex(/^[a-z]+$/)).min(1),
    }),
  })
  .superRefine((rules, ctx) => {
    for (const [cls, phrases] of Object.entries(rules.classes)) {
      phrases?.forEach((phrase, index) => {
        for (const field of ['requires', 'unless'] as const) {
          const name = phrase[field];
          if (name && !(name in rules.qualifiers)) {
            ctx.addIssue({ code: 'custom', path: ['classes', cls, index, field], message: `unknown qualifier list "${name}"` });
          }
        }
      });
    }
  });
export type TextRulesFile = z.infer<typeof TextRulesFile>;

/** knowledge/code-systems.json: the other spellings of each system URI (clinical policy §1). */
export const CodeSystemsFile = z.strictObject({
  version: z.string().min(1),
  description: z.string().min(1),
  systems: z.array(z.strictObject({ uri: z.url(), aliases: z.array(z.string().min(1)).min(1) })).min(1),
});
export type CodeSystemsFile = z.infer<typeof CodeSystemsFile>;

const PrefetchTemplate = z
  .string()
  .min(1)
  .refine((template) => !/\{\{(?!context\.(patientId|userId|encounterId)\}\})[^}]*\}\}/.test(template), {
    message: 'prefetch templates may use only {{context.patientId}}, {{context.userId}} and {{context.encounterId}}',
  });

/** A hook definition under hooks/: its discovery entry plus which orders it evaluates. */
export const HookDefinitionFile = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9-]+$/),
  hook: z.enum(['patient-view', 'order-select', 'order-sign', 'appointment-book']),
  title: z.string().min(1),
  description: z.string().min(1),
  usageRequirements: z.string().min(1).optional(),
  prefetch: z.record(z.string().regex(/^[A-Za-z0-9]+$/), PrefetchTemplate),
  evaluates: z.enum(['draft-orders', 'selected-orders', 'patient-orders', 'appointments']),
  removeOrderAs: z.enum(['delete', 'revoke']),
  offerOverrideReasons: z.boolean(),
});
export type HookDefinitionFile = z.infer<typeof HookDefinitionFile>;

const Coding = z.strictObject({ system: z.string().min(1), code: z.string().min(1), display: z.string().min(1).optional() });

const ActionTemplate = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('remove-order'), description: z.string().min(1) }),
  z.strictObject({ type: z.literal('create-order'), description: z.string().min(1), order: z.string().min(1) }),
]);

const SuggestionTemplate = z.strictObject({
  label: z.string().min(1),
  isRecommended: z.boolean().optional(),
  actions: z.array(ActionTemplate).min(1),
});

/** The slots `{order}` / `{Order}` (the order's name mid-sentence / at the start) and `{condition}` (the named conditions). */
const Summary = z
  .string()
  .min(1)
  .refine((s) => /\{[oO]rder\}/.test(s) && s.includes('{condition}'), { message: 'summary must name {order} (or {Order}) and {condition}' });

/** Wording a variant replaces over the row's base wording (clinical policy §5: row 1 triggers, malignant context, row 5 treatments). */
const VariantWording = z.strictObject({
  /** When the variant applies, as the rationale page says it. */
  label: z.string().min(1),
  summary: Summary.optional(),
  todo: z.array(z.string().min(1)).min(1).optional(),
  suggestions: z.array(SuggestionTemplate).optional(),
});
export type VariantWording = z.infer<typeof VariantWording>;

/**
 * One card per decision-table row, under cards/templates/: the one source of the row's content.
 * The row and variants are checked against the decision table at start-up.
 */
export const CardTemplateFile = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  row: z.number().int(),
  indicator: z.enum(['info', 'warning', 'critical']),
  title: z.string().min(1),
  summary: Summary,
  /** Whether condition names carry their status ("suspected …", "history of …"). */
  namesStatus: z.boolean(),
  /** What to do, first thing in the detail. `{noun}` is "order" or "appointment". */
  todo: z.array(z.string().min(1)).min(1),
  showRedFlags: z.boolean(),
  suggestions: z.array(SuggestionTemplate),
  selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
  overrideReasons: z.array(z.string().min(1)),
  variants: z.record(z.string(), VariantWording),
  /** Ids of the value sets (knowledge/valuesets) behind the card, listed and linked on its rationale page. */
  valueSets: z.array(z.string().min(1)).min(1),
  rationale: z.strictObject({
    paragraphs: z.array(z.string().min(1)).min(1),
    references: z.array(z.string().min(1)).min(1),
  }),
});
export type CardTemplateFile = z.infer<typeof CardTemplateFile>;

/** Shared card material: source, order templates for suggestions, override reasons, names, references. */
export const CardCatalogueFile = z.strictObject({
  version: z.string().min(1),
  source: z.strictObject({ label: z.string().min(1), topicSystem: z.string().min(1) }),
  redFlags: z.array(z.string().min(1)).min(1),
  /** What a resource type is called in a sentence ("order", "appointment"). */
  nouns: z.record(z.string().regex(/^[A-Z][A-Za-z]+$/), z.string().min(1)),
  /** Words kept in capitals when an all-capitals record text is taken into a sentence. */
  acronyms: z.array(z.string().regex(/^[A-Z0-9]+s?$/)),
  /** Joins the conditions a summary names ("urinary retention with cervical stenosis"). */
  namesJoinedBy: z.string().min(1),
  shortNames: z.strictObject({
    classes: z.partialRecord(z.enum(ALL_CLASSES), z.string().min(1).max(30)),
    codes: z.array(z.strictObject({ system: z.string().min(1), code: z.string().min(1), short: z.string().min(1).max(30) })),
  }),
  /** "How this was read": the safer readings the decision table can take. */
  readings: z.record(z.string(), z.string().min(1)),
  orders: z.record(
    z.string(),
    z.strictObject({
      label: z.string().min(1),
      codings: z.array(Coding).min(1),
      category: z.array(Coding).optional(),
      priority: z.enum(['routine', 'urgent', 'asap', 'stat']),
      copyBodySite: z.boolean(),
      reason: z.string().min(1),
    }),
  ),
  overrideReasonSystem: z.string().min(1),
  overrideReasons: z.record(z.string(), z.string().min(1)),
  references: z.record(
    z.string(),
    z.strictObject({ citation: z.string().min(1), note: z.string().min(1), url: z.url().optional() }),
  ),
});
export type CardCatalogueFile = z.infer<typeof CardCatalogueFile>;
