import type { Config } from '../config.js';
import { normaliseServerUrl, type TrustConfig } from './trust-file.js';
import type { Caller, FhirServerPolicy } from './types.js';

interface AllowedServer {
  /** `protocol//host[:port]` with default ports removed. */
  readonly origin: string;
  /** Path without a trailing slash ('' for the root). */
  readonly path: string;
}

/**
 * Decides which `fhirServer` URLs the service may call (and hand the caller's access token to).
 * With a trust file, only the servers registered for the authenticated caller's `iss`: same
 * scheme, host and port, and a path equal to or below the registered base path on a segment
 * boundary. Without one (development mode) any http(s) URL. https is required in production.
 * @see https://cds-hooks.hl7.org/2.0/#trusting-cds-clients
 * @see https://cds-hooks.hl7.org/2.0/#fhir-resource-access
 */
export function createFhirServerPolicy(trust: TrustConfig | undefined, config: Pick<Config, 'env'>): FhirServerPolicy {
  const production = config.env === 'production';
  const serversByIssuer = new Map<string, readonly AllowedServer[]>();
  for (const client of trust?.clients ?? []) {
    const servers: AllowedServer[] = [];
    for (const server of client.fhirServers) {
      const parsed = parseServer(server);
      if (parsed !== undefined) servers.push(parsed);
    }
    serversByIssuer.set(client.iss, servers);
  }

  return {
    isAllowed(caller: Caller | undefined, fhirServer: string): boolean {
      const candidate = parseServer(fhirServer);
      if (candidate === undefined) return false;
      if (production && !candidate.origin.startsWith('https:')) return false;
      if (trust === undefined) return true;
      if (caller === undefined) return false;
      const allowed = serversByIssuer.get(caller.iss) ?? [];
      return allowed.some((server) => server.origin === candidate.origin && isPathWithin(candidate.path, server.path));
    },
  };
}

/** Parses an http(s) FHIR base URL; undefined for anything else, or URLs with credentials, query or fragment. */
function parseServer(raw: string): AllowedServer | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
  const normalised = normaliseServerUrl(url);
  const origin = `${url.protocol}//${url.host}`;
  return { origin, path: normalised.slice(origin.length) };
}

function isPathWithin(path: string, base: string): boolean {
  return path === base || path.startsWith(`${base}/`);
}
