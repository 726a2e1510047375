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

/** Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD` and dateTimes; anything else is undefined. */
export function readDay(value: unknown): DayRange | undefined {
  if (typeof value !== 'string') return undefined;
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

/** Today's calendar day (UTC) from the injected clock. */
export function today(now: Date): string {
  return now.toISOString().slice(0, 10);
}
