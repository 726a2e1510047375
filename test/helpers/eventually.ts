import { setTimeout as delay } from 'node:timers/promises';

/**
 * Waits until `check` holds, looking again every few milliseconds. It has no deadline of its own:
 * a condition that never holds ends at jest's test timeout, so a slow machine cannot fail it.
 */
export async function eventually(check: () => boolean): Promise<void> {
  while (!check()) await delay(5);
}
