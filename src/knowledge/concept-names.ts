import type { KnowledgeClass } from './classes.js';
import { normaliseCode, normaliseSystem, type SystemAliases } from '../terminology/code-index.js';

/**
 * How the knowledge names things: the value sets' displays (for a coding sent without one) and
 * the short names cards fall back on when a record text would not fit a summary.
 */
export class ConceptNames {
  private readonly displays = new Map<string, string>();
  private readonly shorts = new Map<string, string>();
  private readonly classShorts = new Map<KnowledgeClass, string>();

  /** `aliases`: the other spellings of each system URI (OID forms), so a coding by OID is named too. */
  constructor(private readonly aliases: SystemAliases) {}

  private key(system: string, code: string): string {
    const sys = normaliseSystem(system, this.aliases);
    return `${sys}|${normaliseCode(sys, code)}`;
  }

  /** The system URI a coding's system stands for (an OID form read as its URI). */
  systemUri(system: string): string {
    return normaliseSystem(system, this.aliases);
  }

  addDisplay(system: string, code: string, display: string): void {
    const key = this.key(system, code);
    if (!this.displays.has(key)) this.displays.set(key, display);
  }

  addShort(system: string, code: string, short: string): void {
    this.shorts.set(this.key(system, code), short);
  }

  addClassShort(cls: KnowledgeClass, short: string): void {
    this.classShorts.set(cls, short);
  }

  display(system: string, code: string): string | undefined {
    return this.displays.get(this.key(system, code));
  }

  short(system: string, code: string): string | undefined {
    return this.shorts.get(this.key(system, code));
  }

  classShort(cls: KnowledgeClass): string | undefined {
    return this.classShorts.get(cls);
  }
}
