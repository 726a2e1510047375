/** The one configuration gate: every setting is checked in loadConfig, and a bad one is named in one line. */
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config.js';

const BASE = { NODE_ENV: 'test', HOST: '127.0.0.1' };

function problemWith(env: Record<string, string>): string {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return 'accepted';
}

describe('loadConfig', () => {
  it('normalises CORS origins once, so the CORS middleware gets them ready to compare', () => {
    expect(loadConfig({ ...BASE, CORS_ORIGINS: ' https://EHR.example.org:443/ , http://localhost:8080' }).corsOrigins).toEqual([
      'https://ehr.example.org',
      'http://localhost:8080',
    ]);
    expect(loadConfig({ ...BASE, CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
  });

  it.each([
    [{ CORS_ORIGINS: 'https://ehr.example.org/app' }, /^CORS_ORIGINS: entry must be scheme:\/\/host\[:port\]/],
    [{ CORS_ORIGINS: 'ftp://files.example.org' }, /^CORS_ORIGINS: /],
    [{ CORS_ORIGINS: '*, https://ehr.example.org' }, /^CORS_ORIGINS: "\*"/],
    [{ CORS_ORIGINS: ' , ' }, /^CORS_ORIGINS: lists no origin/],
    [{ LOG_FORMAT: 'xml' }, /^LOG_FORMAT: /],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    [{ PORT: '70000' }, /^PORT: /],
    [{ FHIR_DEADLINE_MS: '0' }, /^FHIR_DEADLINE_MS: /],
    [{ PREFETCH_CACHE_MB: '-1' }, /^PREFETCH_CACHE_MB: /],
    [{ PREFETCH_CACHE_MB: 'lots' }, /^PREFETCH_CACHE_MB: /],
    [{ PREFETCH_CACHE_SECONDS: '0' }, /^PREFETCH_CACHE_SECONDS: /],
    [{ CDS_PUBLIC_BASE_URL: 'cds.example.org' }, /^CDS_PUBLIC_BASE_URL: not an absolute URL/],
    [{ ANALYTICS_PASSWORD: 'short' }, /^ANALYTICS_PASSWORD: must be at least 12 characters$/],
    [{ HOST: '0.0.0.0' }, /^HOST: development mode/],
    [{ NODE_ENV: 'production' }, /^CDS_TRUST_FILE: required with NODE_ENV=production/],
  ])('refuses %j with one line naming the variable', (env, expected) => {
    const message = problemWith(env);
    expect(message).toMatch(expected);
    expect(message).not.toContain('\n');
  });

  it('never repeats a secret value in its message', () => {
    const message = problemWith({ DATABASE_URL: 'mysql://cds:s3cret-pass@db/cds' });
    expect(message).toMatch(/^DATABASE_URL: must be a postgres/);
    expect(message).not.toContain('s3cret-pass');
  });

  it('logs JSON by default and pretty lines on request', () => {
    expect(loadConfig(BASE).logFormat).toBe('json');
    expect(loadConfig({ ...BASE, LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
  });

  it('keeps 16 MB of parsed prefetches for 300 s by default, as set, and none with 0', () => {
    expect(loadConfig(BASE).prefetchCache).toEqual({ maxBytes: 16 * 1024 * 1024, ttlSeconds: 300 });
    expect(loadConfig({ ...BASE, PREFETCH_CACHE_MB: '64', PREFETCH_CACHE_SECONDS: '30' }).prefetchCache).toEqual({ maxBytes: 64 * 1024 * 1024, ttlSeconds: 30 });
    expect(loadConfig({ ...BASE, PREFETCH_CACHE_MB: '0' }).prefetchCache.maxBytes).toBe(0);
  });
});
