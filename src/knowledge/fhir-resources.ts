import type { Knowledge, LoadedValueSet } from './load-knowledge.js';

/** FHIR R4 resources describing the knowledge, built from what was loaded (pure: the clock is injected). */
export type FhirResource = Record<string, unknown> & { resourceType: string };

/** Marks an expansion that could not list every code (a regex filter over an external code system). */
const UNCLOSED_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/valueset-unclosed';

/**
 * The CapabilityStatement of the read-only knowledge server: ValueSet read, search and `$expand`.
 * @see https://hl7.org/fhir/R4/capabilitystatement.html
 */
export function capabilityStatement(knowledge: Knowledge, fhirBase: string, date: string): FhirResource {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date,
    publisher: 'Spine Safety CDS',
    kind: 'instance',
    software: { name: 'Spine Safety CDS knowledge', version: knowledge.version },
    implementation: { description: 'The value sets behind the Spine Safety CDS cards, read-only', url: fhirBase },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        documentation: 'Public and read-only: the value sets the service loaded at start-up.',
        resource: [
          {
            type: 'ValueSet',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            operation: [{ name: 'expand', definition: 'http://hl7.org/fhir/OperationDefinition/ValueSet-expand' }],
          },
        ],
      },
    ],
  };
}

/** A searchset Bundle of every loaded value set, as `GET [base]/ValueSet` answers. */
export function valueSetBundle(knowledge: Knowledge, fhirBase: string): FhirResource {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: knowledge.valueSets.length,
    link: [{ relation: 'self', url: `${fhirBase}/ValueSet` }],
    entry: knowledge.valueSets.map((vs) => ({
      fullUrl: `${fhirBase}/ValueSet/${vs.id}`,
      resource: vs.resource,
      search: { mode: 'match' },
    })),
  };
}

/**
 * The value set with its expansion: every enumerated concept with system, code and display.
 * Codes chosen by a regex filter cannot be listed without the code system, so such an
 * expansion is marked unclosed.
 * @see https://hl7.org/fhir/R4/valueset-operation-expand.html
 */
export function expandValueSet(vs: LoadedValueSet, timestamp: string): FhirResource {
  const contains = vs.resource.compose.include.flatMap((include) =>
    (include.concept ?? []).map((concept) => ({ system: include.system, code: concept.code, display: concept.display })),
  );
  const filtered = vs.resource.compose.include.some((include) => (include.filter ?? []).length > 0);
  return {
    ...vs.resource,
    expansion: {
      ...(filtered ? { extension: [{ url: UNCLOSED_EXTENSION, valueBoolean: true }] } : {}),
      timestamp,
      total: contains.length,
      contains,
    },
  };
}
