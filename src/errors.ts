/**
 * The one error catalogue. Every non-2xx answer the service gives comes from here, with a
 * stable code, a status and a FHIR OperationOutcome body (CDS Hooks 2.0 defines no error body;
 * the OperationOutcome follows the 3.0 draft's recommendation).
 */
export const ERRORS = {
  INVALID_REQUEST: { status: 400, issueCode: 'invalid', text: 'The request is not a valid CDS Hooks request' },
  UNAUTHORIZED: { status: 401, issueCode: 'login', text: 'Authentication required' },
  NOT_FOUND: { status: 404, issueCode: 'not-found', text: 'No such resource' },
  UNKNOWN_SERVICE: { status: 404, issueCode: 'not-found', text: 'No CDS service with this id' },
  METHOD_NOT_ALLOWED: { status: 405, issueCode: 'not-supported', text: 'Method not allowed on this path' },
  DATA_UNAVAILABLE: {
    status: 412,
    issueCode: 'incomplete',
    text: 'The FHIR data this service needs was neither prefetched nor obtainable from the FHIR server',
  },
  PAYLOAD_TOO_LARGE: { status: 413, issueCode: 'too-costly', text: 'Request body is larger than the service accepts' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, issueCode: 'not-supported', text: 'Request body must be JSON (application/json)' },
  STORE_UNAVAILABLE: { status: 503, issueCode: 'transient', text: 'Storage is unavailable; retry later' },
  INTERNAL: { status: 500, issueCode: 'exception', text: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export interface OperationOutcomeIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: string;
  details: { text: string; coding?: Array<{ system: string; code: string }> };
  diagnostics?: string;
  expression?: string[];
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: OperationOutcomeIssue[];
}

/** A problem worth telling the client about; `problems` are safe, client-facing specifics. */
export interface Problem {
  message: string;
  path?: string;
}

export const ERROR_CODE_SYSTEM = 'urn:spine-safety-cds:error-code';

export class CdsError extends Error {
  override readonly name = 'CdsError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly problems: readonly Problem[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(ERRORS[code].text);
    this.status = ERRORS[code].status;
  }

  toOperationOutcome(): OperationOutcome {
    return operationOutcome(this.code, this.problems);
  }
}

export function operationOutcome(code: ErrorCode, problems: readonly Problem[] = []): OperationOutcome {
  const entry = ERRORS[code];
  const details = { text: entry.text, coding: [{ system: ERROR_CODE_SYSTEM, code }] };
  if (problems.length === 0) {
    return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: entry.issueCode, details }] };
  }
  return {
    resourceType: 'OperationOutcome',
    issue: problems.map((problem) => ({
      severity: 'error' as const,
      code: entry.issueCode,
      details,
      diagnostics: problem.message,
      ...(problem.path ? { expression: [problem.path] } : {}),
    })),
  };
}
