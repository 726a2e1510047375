/**
 * Records outgoing requests nock had no interceptor for (other than loopback traffic to the
 * service under test), so a test can prove the FHIR server was never contacted.
 */
import nock from 'nock';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface UnmatchedRequests {
  /** `METHOD href` of every unmatched, non-loopback request so far. */
  readonly calls: string[];
  stop(): void;
}

function field(value: unknown, name: string): string {
  if (typeof value !== 'object' || value === null || !(name in value)) return '';
  const inner: unknown = Reflect.get(value, name);
  return typeof inner === 'string' ? inner : '';
}

export function watchUnmatchedRequests(): UnmatchedRequests {
  const calls: string[] = [];
  const listener = (req: unknown): void => {
    if (LOOPBACK.has(field(req, 'hostname'))) return;
    calls.push(`${field(req, 'method')} ${field(req, 'href')}`);
  };
  nock.emitter.on('no match', listener);
  return { calls, stop: () => void nock.emitter.removeListener('no match', listener) };
}
