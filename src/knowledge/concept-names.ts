import type { KnowledgeClass } from './classes.js';
import { normaliseCode, normaliseSystem } from '../terminology/code-index.js';

/**
 * How the knowledge names things: the value sets' displays (for a coding sent without one) and
 * the short names cards fall back on when a record text would not fit a summary.
 */
export class ConceptNames {
  private readonly displays = new Map<string, string>();
  private readonly shorts = new Map<string, string>();
  private readonly classShorts = new Map<KnowledgeClass, string>();

  private static key(system: string, code: string): string {
    const sys = normaliseSystem(system);
    return `${sys}|${normaliseCode(sys, code)}`;
  }

  addDisplay(system: string, code: string, display: string): void {
    const key = ConceptNames.key(system, code);
    if (!this.displays.has(key)) this.displays.set(key, display);
  }

  addShort(system: string, code: string, short: string): void {
    this.shorts.set(ConceptNames.key(system, code), short);
  }

  addClassShort(cls: KnowledgeClass, short: string): void {
    this.classShorts.set(cls, short);
  }

  display(system: string, code: string): string | undefined {
    return this.displays.get(ConceptNames.key(system, code));
  }

  short(system: string, code: string): string | undefined {
    return this.shorts.get(ConceptNames.key(system, code));
  }

  classShort(cls: KnowledgeClass): string | undefined {
    return this.classShorts.get(cls);
  }
}
