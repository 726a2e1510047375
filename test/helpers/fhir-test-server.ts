/**
 * A real FHIR R4 server for end-to-end tests: the in-memory server from
 * `scripts/lib/fhir-memory-server.ts`, listening on a free loopback port.
 */
import {
  startFhirMemoryServer,
  type FhirMemoryServer,
  type FhirMemoryServerOptions,
  type RecordedRequest,
} from '../../scripts/lib/fhir-memory-server.js';

export type { RecordedRequest };

/** A running test FHIR server; see {@link FhirMemoryServer}. */
export type FhirTestServer = FhirMemoryServer;

/** Options for {@link startFhirTestServer}; the port is always chosen by the OS. */
export type FhirTestServerOptions = Omit<FhirMemoryServerOptions, 'port'>;

/**
 * Starts an in-memory FHIR R4 server on `127.0.0.1` and a free port. The first call in a test
 * file also indexes the FHIR definitions (about half a second); later calls start in milliseconds.
 * @example
 * const fhir = await startFhirTestServer({ latencyMs: 20 });
 * await fhir.seed(bundle);
 * afterAll(() => fhir.close());
 */
export function startFhirTestServer(options: FhirTestServerOptions = {}): Promise<FhirTestServer> {
  return startFhirMemoryServer({ ...options, port: 0 });
}
