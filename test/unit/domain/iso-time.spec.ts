import { formatMicros, parseIsoMicros } from '@assigner/domain';
import fc from 'fast-check';

const utc = (text: string) => Date.parse(text) * 1000;

describe('ISO-8601 times', () => {
  it('reads dates and date-times, with microseconds, as UTC unless an offset says otherwise', () => {
    expect(parseIsoMicros('2016-09-01')).toBe(utc('2016-09-01T00:00:00Z'));
    expect(parseIsoMicros('2016-09-01T10:20')).toBe(utc('2016-09-01T10:20:00Z'));
    expect(parseIsoMicros('2014-07-30T17:09:59.941616+00:00')).toBe(
      utc('2014-07-30T17:09:59.941Z') + 616,
    );
    expect(parseIsoMicros('2014-07-30 17:09:59+02:00')).toBe(utc('2014-07-30T15:09:59Z'));
    expect(parseIsoMicros('2014-07-30T17:09:59-0530')).toBe(utc('2014-07-30T22:39:59Z'));
    expect(parseIsoMicros('2014-07-30T17:09:59Z')).toBe(utc('2014-07-30T17:09:59Z'));
    expect(parseIsoMicros('2000-02-29')).toBe(utc('2000-02-29T00:00:00Z'));
    expect(parseIsoMicros('2024-02-29T23:59:59Z')).toBe(utc('2024-02-29T23:59:59Z'));
  });

  it('drops the offset when asked, as edx-platform does to experiment date bounds', () => {
    expect(parseIsoMicros('2016-10-01T00:00:00+05:00', { ignoreOffset: true })).toBe(
      utc('2016-10-01T00:00:00Z'),
    );
  });

  it.each([
    '',
    'not-a-date',
    '2016-02-30',
    '1900-02-29',
    '2100-02-29',
    '2016-13-01',
    '2016-01-01T24:00',
    '16-01-01',
    '2016-01-01T10:00:00+25:00',
    'Jan 6 2012',
  ])('rejects %j', (text) => {
    expect(parseIsoMicros(text)).toBeUndefined();
  });

  it('formats as UTC with milliseconds', () => {
    expect(formatMicros(parseIsoMicros('2014-07-30T17:09:59.941616+00:00')!)).toBe(
      '2014-07-30T17:09:59.941Z',
    );
  });

  it('agrees with the calendar of JavaScript dates on any valid date-time, years 0 to 9999', () => {
    const pad = (value: number, width: number) => String(value).padStart(width, '0');
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0000-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (date, micros, offset) => {
          const zone = `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60), 2)}:${pad(Math.abs(offset) % 60, 2)}`;
          const wall = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}T${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`;
          const wallMillis = date.getTime() - date.getUTCMilliseconds();
          expect(parseIsoMicros(`${wall}.${pad(micros, 6)}${zone}`)).toBe(
            (wallMillis - offset * 60_000) * 1000 + micros,
          );
        },
      ),
    );
  });
});
