/**
 * CDS Hooks 2.0 response shapes, written from the specification (not from the service's own
 * types), so the protocol suites can check every response the service gives.
 * @see https://cds-hooks.hl7.org/2.0/#cds-service-response
 * @see https://cds-hooks.hl7.org/2.0/#discovery
 */
import { z } from 'zod';

/** `extension` may appear on any object (https://cds-hooks.hl7.org/2.0/#extensions). */
const Extension = z.record(z.string(), z.unknown()).optional();

const NonEmptyString = z.string().min(1);

/** An absolute http(s) URL. */
const AbsoluteUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' });

/** CDS Hooks' own Coding: `code` and `system` required, `display` optional (https://cds-hooks.hl7.org/2.0/#coding). */
export const CdsCoding = z.strictObject({
  code: NonEmptyString,
  system: NonEmptyString,
  display: NonEmptyString.optional(),
  extension: Extension,
});

/** Override reasons are Codings whose `display` is required (https://cds-hooks.hl7.org/2.0/#overridereason). */
const OverrideReason = CdsCoding.extend({ display: NonEmptyString });

/** A FHIR resource as carried in create/update actions. */
const FhirResource = z.looseObject({ resourceType: z.string().regex(/^[A-Z][A-Za-z]+$/) });

/** A relative reference `Type/id`, id per FHIR's id datatype. */
const RelativeReference = z.string().regex(/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/, 'must be a relative reference Type/id');

/** https://cds-hooks.hl7.org/2.0/#action */
export const CdsAction = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('create'), description: NonEmptyString, resource: FhirResource, extension: Extension }),
  z.strictObject({ type: z.literal('update'), description: NonEmptyString, resource: FhirResource, extension: Extension }),
  z.strictObject({ type: z.literal('delete'), description: NonEmptyString, resourceId: RelativeReference, extension: Extension }),
]);

/** https://cds-hooks.hl7.org/2.0/#suggestion */
export const CdsSuggestion = z.strictObject({
  label: NonEmptyString,
  uuid: z.uuid().optional(),
  isRecommended: z.boolean().optional(),
  actions: z.array(CdsAction).min(1).optional(),
  extension: Extension,
});

/** https://cds-hooks.hl7.org/2.0/#link */
export const CdsLink = z
  .strictObject({
    label: NonEmptyString,
    url: AbsoluteUrl,
    type: z.enum(['absolute', 'smart']),
    appContext: NonEmptyString.optional(),
    autolaunchable: z.boolean().optional(),
    extension: Extension,
  })
  .refine((link) => link.appContext === undefined || link.type === 'smart', {
    message: 'appContext is only allowed on smart links',
    path: ['appContext'],
  });

/** https://cds-hooks.hl7.org/2.0/#source */
export const CdsSource = z.strictObject({
  label: NonEmptyString,
  url: AbsoluteUrl.optional(),
  icon: AbsoluteUrl.optional(),
  topic: CdsCoding.optional(),
  extension: Extension,
});

/** https://cds-hooks.hl7.org/2.0/#card-attributes */
export const CdsCard = z
  .strictObject({
    uuid: z.uuid().optional(),
    summary: NonEmptyString.max(139, 'summary must be fewer than 140 characters'),
    detail: NonEmptyString.optional(),
    indicator: z.enum(['info', 'warning', 'critical']),
    source: CdsSource,
    suggestions: z.array(CdsSuggestion).min(1).optional(),
    selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
    overrideReasons: z.array(OverrideReason).min(1).optional(),
    links: z.array(CdsLink).min(1).optional(),
    extension: Extension,
  })
  .superRefine((card, ctx) => {
    if (card.suggestions !== undefined && card.selectionBehavior === undefined) {
      ctx.addIssue({ code: 'custom', path: ['selectionBehavior'], message: 'required when suggestions are present' });
    }
    const recommended = (card.suggestions ?? []).filter((s) => s.isRecommended === true).length;
    if (recommended > 1 && card.selectionBehavior !== 'any') {
      ctx.addIssue({ code: 'custom', path: ['suggestions'], message: 'several recommended suggestions need selectionBehavior "any"' });
    }
  });

/** https://cds-hooks.hl7.org/2.0/#http-response */
export const CdsResponse = z.strictObject({
  cards: z.array(CdsCard),
  systemActions: z.array(CdsAction).min(1).optional(),
  extension: Extension,
});
export type CdsResponse = z.infer<typeof CdsResponse>;
export type CdsCard = z.infer<typeof CdsCard>;

/** Prefetch template tokens a 2.0 client resolves for our hooks (checklist §2.3). */
const ALLOWED_TOKENS = new Set(['{{context.patientId}}', '{{context.userId}}', '{{context.encounterId}}']);

/** A relative FHIR read or type-level search whose only tokens are the allowed context ones. */
const PrefetchTemplate = z.string().superRefine((template, ctx) => {
  for (const token of template.match(/\{\{[^}]*\}\}/g) ?? []) {
    if (!ALLOWED_TOKENS.has(token)) ctx.addIssue({ code: 'custom', message: `prefetch token ${token} is not a 2.0 context token we may use` });
  }
  const withoutTokens = template.replace(/\{\{[^}]*\}\}/g, 'x');
  if (withoutTokens.includes('{') || withoutTokens.includes('}')) ctx.addIssue({ code: 'custom', message: 'unbalanced braces' });
  if (!/^[A-Z][A-Za-z]+(\/[^/?\s]+|\?[^\s]+)$/.test(withoutTokens)) {
    ctx.addIssue({ code: 'custom', message: 'must be a relative instance read or type-level search' });
  }
});

/** https://cds-hooks.hl7.org/2.0/#response */
export const DiscoveryService = z.strictObject({
  hook: NonEmptyString,
  title: NonEmptyString.optional(),
  description: NonEmptyString,
  id: z.string().regex(/^[A-Za-z0-9._~-]+$/, 'must be URL-safe'),
  prefetch: z.record(NonEmptyString, PrefetchTemplate).optional(),
  usageRequirements: NonEmptyString.optional(),
  extension: Extension,
});

export const DiscoveryResponse = z.strictObject({ services: z.array(DiscoveryService), extension: Extension });
export type DiscoveryResponse = z.infer<typeof DiscoveryResponse>;

/** A FHIR OperationOutcome, as the service's error bodies are (3.0 draft recommendation). */
export const OperationOutcomeBody = z.looseObject({
  resourceType: z.literal('OperationOutcome'),
  issue: z
    .array(
      z.looseObject({
        severity: z.enum(['fatal', 'error', 'warning', 'information']),
        code: NonEmptyString,
        details: z.looseObject({ text: NonEmptyString }).optional(),
        diagnostics: NonEmptyString.optional(),
        expression: z.array(NonEmptyString).min(1).optional(),
      }),
    )
    .min(1),
});
export type OperationOutcomeBody = z.infer<typeof OperationOutcomeBody>;

/**
 * Paths of every `null`, `""`, `[]` and `{}` in a JSON value (2.0 §Use of JSON): the only empty
 * array allowed is the top-level `cards`.
 */
export function emptyValuePaths(value: unknown, path: readonly (string | number)[] = []): string[] {
  const here = path.length === 0 ? '(root)' : path.join('.');
  if (value === null) return [`${here}: null`];
  if (value === '') return [`${here}: empty string`];
  if (Array.isArray(value)) {
    const topLevelCards = path.length === 1 && path[0] === 'cards';
    if (value.length === 0) return topLevelCards ? [] : [`${here}: empty array`];
    return value.flatMap((item, index) => emptyValuePaths(item, [...path, index]));
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return [`${here}: empty object`];
    return entries.flatMap(([key, inner]) => emptyValuePaths(inner, [...path, key]));
  }
  return [];
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
}

function check<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const problems = emptyValuePaths(body);
  const parsed = schema.safeParse(body);
  if (!parsed.success) problems.unshift(describeIssues(parsed.error));
  if (problems.length > 0 || !parsed.success) {
    throw new Error(`Not a valid ${what}:\n${problems.join('\n')}\nBody: ${JSON.stringify(body).slice(0, 2000)}`);
  }
  return parsed.data;
}

/** Throws (failing the test) unless `body` is a valid CDS Hooks 2.0 service response; returns it typed. */
export function expectValidCdsResponse(body: unknown): CdsResponse {
  return check(CdsResponse, body, 'CDS Hooks 2.0 response');
}

/** Throws unless `body` is a valid CDS Hooks 2.0 discovery response; returns it typed. */
export function expectValidDiscoveryResponse(body: unknown): DiscoveryResponse {
  return check(DiscoveryResponse, body, 'CDS Hooks 2.0 discovery response');
}

/** Throws unless `body` is an OperationOutcome error body with no empty values; returns it typed. */
export function expectOperationOutcome(body: unknown): OperationOutcomeBody {
  return check(OperationOutcomeBody, body, 'OperationOutcome error body');
}
