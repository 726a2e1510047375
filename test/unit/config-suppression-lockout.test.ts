import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = { NODE_ENV: 'test', LOG_LEVEL: 'silent' } as const;

describe('SUPPRESSION_LOCKOUT_HOURS', () => {
  it('defaults to 24 hours and takes 0 (suppression off) or a whole number of hours', () => {
    expect(loadConfig(base).suppressionLockoutHours).toBe(24);
    expect(loadConfig({ ...base, SUPPRESSION_LOCKOUT_HOURS: ' ' }).suppressionLockoutHours).toBe(24);
    expect(loadConfig({ ...base, SUPPRESSION_LOCKOUT_HOURS: '0' }).suppressionLockoutHours).toBe(0);
    expect(loadConfig({ ...base, SUPPRESSION_LOCKOUT_HOURS: '72' }).suppressionLockoutHours).toBe(72);
  });

  it.each(['-1', '1.5', 'a day', '9000'])('refuses %s at start-up', (value) => {
    expect(() => loadConfig({ ...base, SUPPRESSION_LOCKOUT_HOURS: value })).toThrow(ConfigError);
  });
});
