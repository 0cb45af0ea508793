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
  if (day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;

  let offsetMinutes = 0;
  if (zone && zone.toUpperCase() !== 'Z' && !options.ignoreOffset) {
    const digits = zone.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMins = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const utcDate = new Date(0);
  utcDate.setUTCFullYear(year, month - 1, day);
  utcDate.setUTCHours(hour, minute, second, 0);
  const micros = Number(fraction.padEnd(6, '0').slice(0, 6));
  return (utcDate.getTime() - offsetMinutes * 60_000) * 1000 + micros;
}

/** ISO-8601 UTC with milliseconds, the form analytics pipelines expect. */
export function formatMicros(micros: Micros): string {
  return new Date(Math.floor(micros / 1000)).toISOString();
}
