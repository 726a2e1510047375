/**
 * Debian's chromium driven by playwright-core (never `npx playwright install`). Browser suites
 * skip locally when it is missing, and fail on CI (`CI=true`), where it must be installed.
 */
import { existsSync } from 'node:fs';
import { describe, it } from '@jest/globals';
import { IN_CI } from './ci.js';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `describe` when chromium is installed; otherwise a skipped test, or on CI a failing one. */
export function describeWithChromium(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, body);
    return;
  }
  if (IN_CI) {
    describe(`${name} (CI)`, () => {
      it(`needs chromium at ${CHROMIUM}`, () => {
        throw new Error(`chromium not found at ${CHROMIUM}: install the Debian package "chromium" (CI=true, so this is a failure, not a skip)`);
      });
    });
    return;
  }
  console.warn(`${name}: skipped, chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH; with CI=true this fails)`);
  describe(name, () => {
    it.skip(`skipped: chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`, () => undefined);
  });
}
