/** True on CI (`.ci/run` sets CI=true): suites that need chromium or PostgreSQL fail there instead of skipping. */
export const IN_CI = process.env['CI'] === 'true';
