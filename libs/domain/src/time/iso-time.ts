/** Event times are epoch microseconds: tracking logs carry microseconds, and ordering needs them. */
export type Micros = number;

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

export interface IsoParseOptions {
  /**
   * Read the wall-clock time as UTC and drop any offset. edx-platform does this to experiment
   * date bounds (`dateutil.parser.parse(value).replace(tzinfo=pytz.UTC)`).
   */
  ignoreOffset?: boolean;
}

/**
 * Parses an ISO-8601 date (`2016-09-01`) or date-time (`2016-09-01T10:00:00.123456+02:00`, a space
 * instead of T accepted) to epoch microseconds. Times without an offset are UTC. Undefined for
 * anything else, including impossible dates such as February 30.
 */
export function parseIsoMicros(text: string, options: IsoParseOptions = {}): Micros | undefined {
  const match = ISO.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;

  let offsetMinutes = 0;
  if (zone && zone.toUpperCase() !== 'Z' && !options.ignoreOffset) {
    const digits = zone.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMins = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const seconds =
    daysSinceEpoch(year, month, day) * 86_400 +
    hour * 3600 +
    (minute - offsetMinutes) * 60 +
    second;
  const micros = fraction === '' ? 0 : Number(fraction.padEnd(6, '0').slice(0, 6));
  return seconds * 1_000_000 + micros;
}

const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days from 1970-01-01 to this proleptic Gregorian date, by arithmetic: every event's time is
 * parsed here, and building Date objects for it cost more than the rest of the parse.
 */
function daysSinceEpoch(year: number, month: number, day: number): number {
  // Years counted from March, so that the leap day ends a year (Howard Hinnant's days_from_civil).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** ISO-8601 UTC with milliseconds, the form analytics pipelines expect. */
export function formatMicros(micros: Micros): string {
  return new Date(Math.floor(micros / 1000)).toISOString();
}
