import { formatMicros, parseIsoMicros } from '@assigner/domain';

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
});
