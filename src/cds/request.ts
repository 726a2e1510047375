import { z } from 'zod';

/**
 * The CDS Hooks 2.0 request envelope (https://cds-hooks.hl7.org/2.0/#http-request-1): lenient on
 * unknown fields and `extension`, strict on what the rules read. FHIR resources stay `unknown`
 * here and are read field by field by the rules.
 */
const Bundle = z.looseObject({
  resourceType: z.literal('Bundle'),
  entry: z.array(z.looseObject({ resource: z.unknown().optional() })).optional(),
});

const FhirAuthorization = z.looseObject({
  access_token: z.string(),
  token_type: z.string().optional(),
  expires_in: z.number().optional(),
  scope: z.string().optional(),
  subject: z.string().optional(),
  patient: z.string().optional(),
});

export const CdsRequest = z.looseObject({
  hook: z.string().min(1),
  hookInstance: z.string().min(1),
  fhirServer: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  fhirAuthorization: FhirAuthorization.nullish(),
  context: z.looseObject({
    patientId: z.string().min(1),
    userId: z.string().min(1).optional(),
    encounterId: z.string().min(1).optional(),
    draftOrders: Bundle.optional(),
    selections: z.array(z.string().min(1)).optional(),
    appointments: Bundle.optional(),
  }),
  prefetch: z.record(z.string(), z.unknown()).nullish(),
});
export type CdsRequest = z.infer<typeof CdsRequest>;

/**
 * Hook-specific context requirements (CDS Hooks library: order-select needs selections and
 * draftOrders, order-sign draftOrders, appointment-book appointments). An empty `selections` names
 * no order: no card, not an error (clinical policy §4).
 */
export function contextProblems(hook: string, request: CdsRequest): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  if ((hook === 'order-select' || hook === 'order-sign') && !request.context.draftOrders) {
    problems.push({ path: 'context.draftOrders', message: `${hook} requires context.draftOrders (a Bundle)` });
  }
  if (hook === 'order-select' && !request.context.selections) {
    problems.push({ path: 'context.selections', message: 'order-select requires context.selections (an array of Type/id references)' });
  }
  if (hook === 'appointment-book' && !request.context.appointments) {
    problems.push({ path: 'context.appointments', message: 'appointment-book requires context.appointments (a Bundle of Appointments)' });
  }
  return problems;
}
