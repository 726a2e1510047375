/** Who called, once the JWT has been verified (absent in development mode). */
export interface Caller {
  /** The `iss` claim of a trusted client. */
  readonly iss: string;
  /** The `tenant` claim when the client sends one. */
  readonly tenant?: string;
  /** `jti` of the verified token (safe to log). */
  readonly jti?: string;
}

/** Verifies the CDS client's JWT for one call. Throws `CdsError('UNAUTHORIZED')` on any failure. */
export interface Authenticator {
  /**
   * @param authorization the raw Authorization header value (never logged)
   * @param audience the exact public URL of the endpoint called: `{CDS_PUBLIC_BASE_URL}{path}`
   */
  authenticate(authorization: string | undefined, audience: string): Promise<Caller>;
}

/** Decides whether a `fhirServer` URL may be contacted on behalf of a caller. */
export interface FhirServerPolicy {
  isAllowed(caller: Caller | undefined, fhirServer: string): boolean;
}
