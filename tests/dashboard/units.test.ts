// The reader's units (src/dashboard/web/src/units.ts): distance, pace, temperature and climb in km or miles,
// °C or °F, from the server's metres, s/km and °C.
import { describe, expect, it } from 'vitest';
import { formatDistanceIn, formatElevationIn, formatPaceIn, formatTempIn, getUnits, type Units } from '../../src/dashboard/web/src/units.js';

const KM: Units = { distance: 'km', temperature: 'C' };
const MI: Units = { distance: 'mi', temperature: 'F' };

describe('units', () => {
  it('writes distance, pace, temperature and climb in the chosen unit', () => {
    expect(formatDistanceIn(10_000, KM)).toBe('10.00 km');
    expect(formatDistanceIn(640, KM)).toBe('640 m');
    expect(formatDistanceIn(16_093.44, MI)).toBe('10.00 mi');
    expect(formatPaceIn(300, KM)).toBe('5:00 /km');
    // 5:00 /km is 8:03 /mi (482.8 s).
    expect(formatPaceIn(300, MI)).toBe('8:03 /mi');
    expect(formatPaceIn(300, MI, false)).toBe('8:03');
    expect(formatTempIn(20, KM)).toBe('20 °C');
    expect(formatTempIn(20, MI)).toBe('68 °F');
    expect(formatTempIn(-40, MI)).toBe('-40 °F');
    expect(formatElevationIn(100, KM)).toBe('100 m');
    expect(formatElevationIn(100, MI)).toBe('328 ft');
    for (const f of [formatDistanceIn, formatPaceIn, formatTempIn, formatElevationIn]) expect(f(null, KM)).toBe('–');
  });

  it('defaults to km and °C where nothing is stored (or storage is unavailable)', () => {
    expect(getUnits()).toEqual(KM);
  });
});
