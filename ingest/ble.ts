/**
 * Decoders for the two standard Bluetooth LE fitness measurements a phone companion can forward unchanged:
 * Heart Rate Measurement (characteristic 0x2A37, Heart Rate Service 1.0) and Running Speed and Cadence
 * Measurement (0x2A53, RSC Service 1.0). All multi-byte fields are little-endian.
 *
 * 0x2A37: flags (uint8) · HR (uint8, or uint16 when flag bit 0) · energy expended (uint16 kJ, when bit 3) ·
 * RR intervals (uint16 each, 1/1024 s, when bit 4, as many as fit). Bits 1–2 are sensor contact: 0b0x = not
 * supported, 0b10 = supported but no contact, 0b11 = contact.
 *
 * 0x2A53: flags (uint8) · speed (uint16, 1/256 m/s) · cadence (uint8, 1/min) · stride length (uint16, 1/100 m, when
 * bit 0) · total distance (uint32, 1/10 m, when bit 1). Bit 2 = running (1) or walking (0).
 *
 * RSC cadence: the GATT definition gives the unit as "1/minute (or RPM)" and the service text describes it as the
 * number of foot falls per minute, i.e. steps per minute with both legs counted — the unit `Sample.cadence` uses,
 * so it passes through unchanged (a runner at 90 strides/min reports about 180). Some older foot pods send one
 * leg's strides instead; for those pass `{ cadenceUnit: 'strides' }` to {@link rscToWire} and it is doubled. The
 * field is a uint8, so the spec cannot carry more than 255 steps/min.
 *
 * Rules for odd payloads: too short for what the flags announce → `BLE_TRUNCATED`; an RR list with an odd
 * number of bytes or a value that is not a byte array → `BLE_MALFORMED`. Reserved flag bits are ignored (the spec
 * reserves them for future use), and bytes after the last field of an RSC payload are ignored for the same reason.
 * RR intervals present flag with no bytes left gives an empty list: harmless, and seen in the wild.
 * @module
 */
import { IngestError } from './errors.js';
import type { WireSample } from './live.js';

export type SensorContact = 'unsupported' | 'no_contact' | 'contact';

export interface HeartRateMeasurement {
  /** Heart rate, beats/min, as sent (0 is possible when a strap has no contact). */
  hr: number;
  sensorContact: SensorContact;
  /** Energy expended since the last reset, kJ; null when absent. */
  energyExpendedKj: number | null;
  /** RR intervals, ms, oldest first (converted from 1/1024 s, not rounded). */
  rrMs: number[];
}

export interface RscMeasurement {
  /** Instantaneous speed, m/s. */
  speedMps: number;
  /** Instantaneous cadence as transmitted: foot falls per minute (steps/min) per the spec. */
  cadence: number;
  /** Instantaneous stride length, m; null when absent. */
  strideLengthM: number | null;
  /** Distance since the sensor was reset (usually power-on, not the run start), m; null when absent. */
  totalDistanceM: number | null;
  /** True when the sensor classifies the motion as running, false for walking. */
  running: boolean;
}

const HR_UINT16 = 0x01;
const HR_CONTACT_SUPPORTED = 0x04;
const HR_CONTACT_DETECTED = 0x02;
const HR_ENERGY = 0x08;
const HR_RR = 0x10;

const RSC_STRIDE = 0x01;
const RSC_DISTANCE = 0x02;
const RSC_RUNNING = 0x04;

/**
 * Decodes a Heart Rate Measurement (0x2A37) value.
 * @throws IngestError `BLE_TRUNCATED` or `BLE_MALFORMED` (and nothing else).
 */
export function decodeHeartRateMeasurement(bytes: Uint8Array): HeartRateMeasurement {
  const view = viewOf(bytes, 'heart rate measurement');
  need(view, 0, 1, 'heart rate measurement', 'flags');
  const flags = view.getUint8(0);
  let at = 1;
  let hr: number;
  if (flags & HR_UINT16) {
    need(view, at, 2, 'heart rate measurement', 'uint16 heart rate');
    hr = view.getUint16(at, true);
    at += 2;
  } else {
    need(view, at, 1, 'heart rate measurement', 'heart rate');
    hr = view.getUint8(at);
    at += 1;
  }
  let energyExpendedKj: number | null = null;
  if (flags & HR_ENERGY) {
    need(view, at, 2, 'heart rate measurement', 'energy expended');
    energyExpendedKj = view.getUint16(at, true);
    at += 2;
  }
  const rrMs: number[] = [];
  if (flags & HR_RR) {
    const left = view.byteLength - at;
    if (left % 2 !== 0) {
      throw new IngestError(
        'BLE_MALFORMED',
        `heart rate measurement: RR intervals take ${left} bytes, expected an even number`,
      );
    }
    for (; at < view.byteLength; at += 2) rrMs.push((view.getUint16(at, true) * 1000) / 1024);
  }
  const sensorContact: SensorContact = !(flags & HR_CONTACT_SUPPORTED)
    ? 'unsupported'
    : flags & HR_CONTACT_DETECTED
      ? 'contact'
      : 'no_contact';
  return { hr, sensorContact, energyExpendedKj, rrMs };
}

/**
 * Decodes a Running Speed and Cadence Measurement (0x2A53) value.
 * @throws IngestError `BLE_TRUNCATED` or `BLE_MALFORMED` (and nothing else).
 */
export function decodeRscMeasurement(bytes: Uint8Array): RscMeasurement {
  const what = 'running speed and cadence measurement';
  const view = viewOf(bytes, what);
  need(view, 0, 4, what, 'flags, speed and cadence');
  const flags = view.getUint8(0);
  const speedMps = view.getUint16(1, true) / 256;
  const cadence = view.getUint8(3);
  let at = 4;
  let strideLengthM: number | null = null;
  if (flags & RSC_STRIDE) {
    need(view, at, 2, what, 'stride length');
    strideLengthM = view.getUint16(at, true) / 100;
    at += 2;
  }
  let totalDistanceM: number | null = null;
  if (flags & RSC_DISTANCE) {
    need(view, at, 4, what, 'total distance');
    totalDistanceM = view.getUint32(at, true) / 10;
    at += 4;
  }
  return { speedMps, cadence, strideLengthM, totalDistanceM, running: (flags & RSC_RUNNING) !== 0 };
}

/** The wire-sample fields a heart-rate measurement supplies (add `t` or `timestamp` and send). */
export function heartRateToWire(m: HeartRateMeasurement): Pick<WireSample, 'hr' | 'rr'> {
  // A strap that says it has no skin contact sends a meaningless HR; its RR list is empty anyway.
  return { hr: m.sensorContact === 'no_contact' ? null : m.hr, rr: m.rrMs };
}

export interface RscToWireOptions {
  /**
   * What the pod's cadence counts: `steps` (both feet, the spec) or `strides` (one foot, some older pods).
   * @default 'steps'
   */
  cadenceUnit?: 'steps' | 'strides';
}

/**
 * The wire-sample fields an RSC measurement supplies. Total distance is left out on purpose: it counts from the
 * pod's reset, not the run start, so the sender must subtract its first value before sending it as `distance`.
 */
export function rscToWire(m: RscMeasurement, options: RscToWireOptions = {}): Pick<WireSample, 'speed' | 'cadence'> {
  const perStep = options.cadenceUnit === 'strides' ? 2 : 1;
  return { speed: m.speedMps, cadence: m.cadence * perStep };
}

function viewOf(bytes: Uint8Array, what: string): DataView {
  if (!(bytes instanceof Uint8Array)) {
    throw new IngestError('BLE_MALFORMED', `${what}: expected bytes (Uint8Array), got ${describe(bytes)}`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function need(view: DataView, at: number, size: number, what: string, field: string): void {
  if (at + size > view.byteLength) {
    throw new IngestError(
      'BLE_TRUNCATED',
      `${what}: ${view.byteLength} bytes, too short for the ${field} (needs ${at + size})`,
    );
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
