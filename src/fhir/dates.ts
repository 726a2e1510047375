/** A FHIR date or dateTime read as calendar days, as written (time and zone ignored). */
export interface DayRange {
  /** Earliest possible day, YYYY-MM-DD. */
  readonly earliest: string;
  /** Latest possible day, YYYY-MM-DD. */
  readonly latest: string;
  /** The value as written, for display. */
  readonly written: string;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const pad = (n: number) => String(n).padStart(2, '0');

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The digit at `index` of `text`, or -1. */
function digitAt(text: string, index: number): number {
  const code = text.charCodeAt(index) - 48;
  return code >= 0 && code <= 9 ? code : -1;
}

/**
 * A plain `YYYY-MM-DD` from year 1000 on, read by char code: the same answer as the general
 * reading, which is written back unchanged. Undefined when the value is not that shape, to be
 * read the general way.
 */
function plainDay(value: string): DayRange | undefined {
  if (value.length !== 10 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return undefined;
  const digits = [0, 1, 2, 3, 5, 6, 8, 9].map((index) => digitAt(value, index));
  if (digits.some((d) => d < 0)) return undefined;
  const [y0 = 0, y1 = 0, y2 = 0, y3 = 0, m0 = 0, m1 = 0, d0 = 0, d1 = 0] = digits;
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  if (year < 1000) return undefined;
  const month = m0 * 10 + m1;
  const day = d0 * 10 + d1;
  if (month < 1 || month > 12) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const last = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 31);
  if (day < 1 || day > last) return undefined;
  return { earliest: value, latest: value, written: value };
}

/** Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD` and dateTimes; anything else is undefined. */
export function readDay(value: unknown): DayRange | undefined {
  if (typeof value !== 'string') return undefined;
  const plain = plainDay(value);
  if (plain) return plain;
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T.*)?$/.exec(value.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = m[2] ? Number(m[2]) : undefined;
  const day = m[3] ? Number(m[3]) : undefined;
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (month === undefined) return { earliest: `${year}-01-01`, latest: `${year}-12-31`, written: value.trim() };
  const last = daysInMonth(year, month);
  if (day === undefined) return { earliest: `${year}-${pad(month)}-01`, latest: `${year}-${pad(month)}-${pad(last)}`, written: value.trim() };
  if (day < 1 || day > last) return undefined;
  const iso = `${year}-${pad(month)}-${pad(day)}`;
  return { earliest: iso, latest: iso, written: value.trim() };
}

/** Today's calendar day (UTC) from the injected clock, as `toISOString` writes it (which is slower). */
export function today(now: Date): string {
  const year = now.getUTCFullYear();
  // Years outside 0–9999 (written with a sign) and an invalid date (which throws) go the long way.
  if (!(year >= 0 && year <= 9999)) return now.toISOString().slice(0, 10);
  return `${String(year).padStart(4, '0')}-${pad(now.getUTCMonth() + 1)}-${pad(now.getUTCDate())}`;
}
