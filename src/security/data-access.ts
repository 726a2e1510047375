import type { CdsRequest } from '../cds/request.js';
import type { DataAccess } from '../fhir/patient-data.js';
import type { Logger } from '../logger.js';
import type { Caller, FhirServerPolicy } from './types.js';

/**
 * What the service may use to read the patient's record for one call: the request's `fhirServer`
 * only when the policy allows it for this caller, and its access token only when non-blank.
 * A refused server is logged (caller `iss`, never the token) and not contacted.
 * @see https://cds-hooks.hl7.org/2.0/#fhir-resource-access
 */
export function dataAccessFor(policy: FhirServerPolicy, caller: Caller | undefined, request: CdsRequest, log: Logger): DataAccess {
  const fhirServer = request.fhirServer;
  const allowed = fhirServer !== undefined && policy.isAllowed(caller, fhirServer);
  if (fhirServer !== undefined && !allowed) log.warn({ iss: caller?.iss }, 'fhirServer not on the caller allowlist: not contacted');
  const token = request.fhirAuthorization?.access_token;
  return { fhirServer: allowed ? fhirServer : undefined, token: token !== undefined && token.trim() !== '' ? token : undefined };
}
