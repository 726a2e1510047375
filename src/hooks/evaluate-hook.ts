import { buildCard, sortByIndicator, type CardEnvironment } from '../cards/build-card.js';
import type { CdsCard } from '../cards/types.js';
import type { CdsRequest } from '../cds/request.js';
import { today } from '../fhir/dates.js';
import type { FhirGateway } from '../fhir/gateway.js';
import { isObject, objects, str, type JsonObject } from '../fhir/json.js';
import { loadKey, type DataAccess, type Loaded } from '../fhir/patient-data.js';
import { ownership } from '../fhir/references.js';
import type { Knowledge } from '../knowledge/load-knowledge.js';
import type { HookDefinitionFile } from '../knowledge/schemas.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../ops/types.js';
import { decide, type Decision } from '../rules/decide.js';
import { readAppointment } from '../rules/appointment.js';
import { readOrder, type OrderEntry } from '../rules/order.js';
import { derivePatientState, type PatientState } from '../rules/patient-state.js';
import { readCondition, readProcedure } from '../rules/record.js';

export interface EvaluateDeps {
  readonly knowledge: Knowledge;
  readonly gateway: FhirGateway;
  readonly publicBaseUrl: string;
  readonly deadlineMs: number;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly metrics: Metrics | undefined;
}

/** One decided card: the policy row, its card uuid and the order (or appointment) it is about. */
export interface EvaluatedDecision {
  readonly cardId: string;
  readonly indicator: CdsCard['indicator'];
  readonly uuid: string;
  /** `Type/id` of the order; absent when the order came without an id. */
  readonly orderRef: string | undefined;
}

export interface Evaluation {
  readonly cards: CdsCard[];
  /** Per card: the policy row decided, for logs and analytics. */
  readonly decisions: ReadonlyArray<EvaluatedDecision>;
}

/**
 * Reason given to reads still in flight when an evaluation ends. Built once: `abort()` without a
 * reason builds a DOMException, stack trace included, on every request.
 */
const EVALUATION_ENDED = new DOMException('The hook evaluation ended', 'AbortError');

function isOwn(resource: JsonObject, patientId: string, allowNoSubject: boolean): boolean {
  const owner = ownership(resource, patientId);
  return owner === 'patient' || (owner === 'none' && allowNoSubject);
}

/** Resources of the patient in context; others are dropped and counted (no patient data logged). */
function ownResources(resources: readonly unknown[], patientId: string, allowNoSubject: boolean, counter: { other: number }): JsonObject[] {
  const own: JsonObject[] = [];
  for (const resource of resources) {
    if (!isObject(resource)) continue;
    if (isOwn(resource, patientId, allowNoSubject)) own.push(resource);
    else counter.other += 1;
  }
  return own;
}

/**
 * The record entries of one resource type, in one pass: each resource of the patient in context
 * and of that type is read by `read` (which may decline it), those of others dropped and counted
 * as {@link ownResources} does. A chart's record is large and mostly matches no class, so no list
 * is made along the way.
 */
function readRecord<T>(resources: readonly unknown[], patientId: string, resourceType: string, read: (resource: JsonObject) => T | undefined, counter: { other: number }): T[] {
  const entries: T[] = [];
  for (const resource of resources) {
    if (!isObject(resource)) continue;
    if (!isOwn(resource, patientId, false)) {
      counter.other += 1;
      continue;
    }
    if (resource['resourceType'] !== resourceType) continue;
    const entry = read(resource);
    if (entry !== undefined) entries.push(entry);
  }
  return entries;
}

/** Resources read already (a prefetch), as opposed to a read under way. */
function atHand(loaded: Loaded): loaded is readonly unknown[] {
  return Array.isArray(loaded);
}

/** The patient's state as read from one record on one day, and how many resources of others it held. */
interface RecordReading {
  readonly conditionResources: readonly unknown[];
  readonly procedureResources: readonly unknown[];
  readonly patientId: string;
  readonly today: string;
  readonly knowledge: Knowledge;
  readonly state: PatientState;
  readonly other: number;
}

/**
 * The last reading of each record, kept by its Condition list. Calls that send a prefetch byte for
 * byte again get the same resource lists (readPrefetch keeps its reads by the shared prefetch
 * value), so the same chart is read once per patient and day; lists made for one call (another
 * prefetch, a FHIR search) miss and go with their call.
 */
const readings = new WeakMap<readonly unknown[], RecordReading>();

function readPatientRecord(conditionResources: readonly unknown[], procedureResources: readonly unknown[], patientId: string, knowledge: Knowledge, todayIso: string): RecordReading {
  const kept = readings.get(conditionResources);
  if (kept && kept.procedureResources === procedureResources && kept.patientId === patientId && kept.today === todayIso && kept.knowledge === knowledge) return kept;
  const counter = { other: 0 };
  const conditions = readRecord(conditionResources, patientId, 'Condition', (r) => readCondition(r, knowledge, todayIso), counter);
  const procedures = readRecord(procedureResources, patientId, 'Procedure', (r) => readProcedure(r, knowledge), counter);
  const state = derivePatientState(conditions, procedures);
  // Kept for later calls: frozen, so a step that wrote into it would fail at once, not change their cards.
  for (const entry of [...conditions, ...procedures]) Object.freeze(entry);
  for (const value of Object.values(state)) if (Array.isArray(value)) Object.freeze(value);
  const reading: RecordReading = Object.freeze({ conditionResources, procedureResources, patientId, today: todayIso, knowledge, state: Object.freeze(state), other: counter.other });
  readings.set(conditionResources, reading);
  return reading;
}

/** Draft orders; one sent without an id takes it from a `Type/id` fullUrl, so it can still be removed. */
function draftOrderResources(request: CdsRequest): JsonObject[] {
  const orders: JsonObject[] = [];
  for (const entry of objects(request.context.draftOrders?.entry)) {
    const resource = entry['resource'];
    if (!isObject(resource)) continue;
    const fromUrl = str(entry['fullUrl'])?.match(/(?:^|\/)([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/);
    const id = fromUrl && fromUrl[1] === resource['resourceType'] ? fromUrl[2] : undefined;
    orders.push(str(resource['id']) === undefined && id ? { ...resource, id } : resource);
  }
  return orders;
}

/** `ServiceRequest/abc` from a selection, also when sent as an absolute URL. */
function selectionKey(selection: string): string {
  const parts = selection.split('?')[0]?.split('/').filter((p) => p !== '') ?? [];
  return parts.slice(-2).join('/');
}

/** The proposed appointments of appointment-book, read as orders (clinical policy §3, §4). */
function appointmentOrders(request: CdsRequest, patientId: string, knowledge: Knowledge): OrderEntry[] {
  const orders: OrderEntry[] = [];
  for (const entry of objects(request.context.appointments?.entry)) {
    const resource = entry['resource'];
    const order = isObject(resource) ? readAppointment(resource, patientId, knowledge) : undefined;
    if (order) orders.push(order);
  }
  return orders;
}

function selectedOrders(request: CdsRequest, orders: JsonObject[]): JsonObject[] {
  const wanted = new Set((request.context.selections ?? []).map(selectionKey));
  return orders.filter((order) => wanted.has(`${str(order['resourceType']) ?? ''}/${str(order['id']) ?? ''}`));
}

/** The patient in context as a bare id: some clients send the reference form; the bare id is what resources point at. */
export function patientIdOf(request: CdsRequest): string {
  return request.context.patientId.replace(/^Patient\//, '');
}

/**
 * Runs one hook: picks the orders the hook evaluates, reads the patient's record (prefetch or
 * FHIR server, in parallel, within the deadline), applies the decision table and builds the cards.
 */
export async function evaluateHook(hook: HookDefinitionFile, request: CdsRequest, access: DataAccess, deps: EvaluateDeps, log: Logger): Promise<Evaluation> {
  const patientId = patientIdOf(request);
  const contextRecord: Record<string, unknown> = { ...request.context, patientId };
  // The deadline and its abort signal exist only once a read goes to the FHIR server.
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  const signal = (): AbortSignal => {
    if (!controller) {
      const made = new AbortController();
      controller = made;
      timer = setTimeout(() => made.abort(), deps.deadlineMs);
    }
    return controller.signal;
  };
  const dataDeps = { gateway: deps.gateway, logger: log, metrics: deps.metrics };
  const load = (key: string): Loaded => {
    const template = hook.prefetch[key];
    if (!template) return [];
    const loaded = loadKey({ key, template, prefetch: request.prefetch, context: contextRecord, access, signal }, dataDeps);
    // A read not waited for (no order conflicts) must not reject unhandled.
    if (!atHand(loaded)) loaded.catch(() => undefined);
    return loaded;
  };
  const other = { other: 0 };
  try {
    let orderResources: JsonObject[] = [];
    let conditionsLoad: Loaded | undefined;
    let proceduresLoad: Loaded | undefined;
    if (hook.evaluates === 'patient-orders') {
      // All three reads start together, so the fallback costs one round trip; record reads are
      // only awaited when an order conflicts.
      const ordersLoad = load('serviceRequests');
      conditionsLoad = load('conditions');
      proceduresLoad = load('procedures');
      orderResources = ownResources(atHand(ordersLoad) ? ordersLoad : await ordersLoad, patientId, false, other);
    } else if (hook.evaluates !== 'appointments') {
      const drafts = ownResources(draftOrderResources(request), patientId, true, other);
      orderResources = hook.evaluates === 'selected-orders' ? selectedOrders(request, drafts) : drafts;
    }
    const orders =
      hook.evaluates === 'appointments'
        ? appointmentOrders(request, patientId, deps.knowledge)
        : orderResources.map((r) => readOrder(r, deps.knowledge)).filter((o): o is OrderEntry => o !== undefined);
    if (orders.length === 0) return { cards: [], decisions: [] };

    conditionsLoad ??= load('conditions');
    proceduresLoad ??= load('procedures');
    const [conditionResources, procedureResources] =
      atHand(conditionsLoad) && atHand(proceduresLoad) ? [conditionsLoad, proceduresLoad] : await Promise.all([conditionsLoad, proceduresLoad]);
    const reading = readPatientRecord(conditionResources, procedureResources, patientId, deps.knowledge, today(deps.clock()));
    other.other += reading.other;
    const state = reading.state;

    const env: CardEnvironment = { knowledge: deps.knowledge, publicBaseUrl: deps.publicBaseUrl, newId: deps.newId };
    const cardContext = { patientId, encounterId: request.context.encounterId, userId: request.context.userId };
    const built: Array<{ card: CdsCard; orderRef: string | undefined }> = [];
    for (const order of orders) {
      const decision: Decision | undefined = decide(state, order);
      if (!decision) continue;
      const orderRef = order.id === undefined ? undefined : `${order.resourceType}/${order.id}`;
      built.push({ card: buildCard(decision, order, hook, cardContext, env), orderRef });
    }
    const sorted = sortByIndicator(built);
    return {
      cards: sorted.map((b) => b.card),
      decisions: sorted.map(({ card, orderRef }): EvaluatedDecision => ({ cardId: card.source.topic.code, indicator: card.indicator, uuid: card.uuid, orderRef })),
    };
  } finally {
    clearTimeout(timer);
    controller?.abort(EVALUATION_ENDED);
    if (other.other > 0) log.info({ ignoredResources: other.other }, 'resources of another patient ignored');
  }
}
