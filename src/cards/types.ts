/** CDS Hooks 2.0 response types (https://cds-hooks.hl7.org/2.0/#cds-service-response). */
export interface CdsCoding {
  system: string;
  code: string;
  display?: string;
}

export type CdsAction =
  | { type: 'create'; description: string; resource: Record<string, unknown> }
  | { type: 'update'; description: string; resource: Record<string, unknown> }
  | { type: 'delete'; description: string; resourceId: string };

export interface CdsSuggestion {
  label: string;
  uuid: string;
  isRecommended?: boolean;
  actions: CdsAction[];
}

export interface CdsLink {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
}

/** The source, override reasons and links are shared by every card of a template (frozen): read them, never change them. */
export interface CdsCard {
  uuid: string;
  summary: string;
  detail: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { readonly label: string; readonly topic: Readonly<CdsCoding> };
  suggestions?: CdsSuggestion[];
  selectionBehavior?: 'at-most-one' | 'any';
  overrideReasons?: ReadonlyArray<Readonly<CdsCoding>>;
  links: ReadonlyArray<Readonly<CdsLink>>;
}

export interface CdsResponse {
  cards: CdsCard[];
}
