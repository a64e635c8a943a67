/**
 * Bluetooth LE sensors through Web Bluetooth: a heart-rate strap (Heart Rate service 0x180D, measurement
 * 0x2A37) and a running speed and cadence foot pod (RSC service 0x1814, measurement 0x2A53). Each notification
 * is decoded by ingest/ble.ts, the same decoders the server's tests pin down, and handed on with its time.
 * A dropped connection is retried with back-off while the run goes on; the recorder treats the gap as missing.
 */
import { decodeHeartRateMeasurement, decodeRscMeasurement, type HeartRateMeasurement, type RscMeasurement } from '../../../../ingest/ble.js';
import { IngestError } from '../../../../ingest/errors.js';

export type SensorKind = 'hr' | 'pod';

const SPEC: Record<SensorKind, { service: string; characteristic: string; label: string }> = {
  hr: { service: 'heart_rate', characteristic: 'heart_rate_measurement', label: 'heart-rate strap' },
  pod: { service: 'running_speed_and_cadence', characteristic: 'rsc_measurement', label: 'foot pod' },
};

export type SensorState = 'unpaired' | 'connecting' | 'connected' | 'reconnecting' | 'failed';

export interface SensorHandlers {
  heartRate(ms: number, m: HeartRateMeasurement): void;
  footPod(ms: number, m: RscMeasurement): void;
  state(kind: SensorKind, state: SensorState, detail: string): void;
  /** A payload the decoder refused (its stable code): counted, never fatal. */
  bad(kind: SensorKind, code: string): void;
}

/** Why Web Bluetooth is not there, or null when it is. */
export function bluetoothMissing(): string | null {
  if (!window.isSecureContext) return 'Bluetooth needs the page over https (or on localhost).';
  if (!navigator.bluetooth) return 'This browser has no Web Bluetooth (iOS browsers and Firefox do not have it): use Chrome on Android, or a watch.';
  return null;
}

export class Sensor {
  state: SensorState = 'unpaired';
  device: BluetoothDevice | null = null;
  /** The subscribed characteristic (its `characteristicvaluechanged` events carry the measurements). */
  characteristic: BluetoothRemoteGATTCharacteristic | null = null;
  private retries = 0;
  private stopped = false;

  constructor(
    readonly kind: SensorKind,
    private readonly on: SensorHandlers,
  ) {}

  get label(): string {
    return SPEC[this.kind].label;
  }

  /** Opens the browser's device chooser (needs a tap) and subscribes to the measurement. */
  async pair(): Promise<void> {
    const missing = bluetoothMissing();
    if (missing) throw new Error(missing);
    const spec = SPEC[this.kind];
    this.stopped = false;
    this.set('connecting', 'choose your sensor');
    try {
      this.device = await navigator.bluetooth!.requestDevice({ filters: [{ services: [spec.service] }] });
    } catch (err) {
      this.set('unpaired', (err as Error).name === 'NotFoundError' ? 'no sensor chosen' : (err as Error).message);
      throw err;
    }
    this.device.addEventListener('gattserverdisconnected', () => void this.reconnect());
    await this.connect();
  }

  private async connect(): Promise<void> {
    const spec = SPEC[this.kind];
    const gatt = this.device?.gatt;
    if (!gatt) throw new Error('the sensor has no GATT server');
    this.set('connecting', this.device?.name ?? this.label);
    const server = await gatt.connect();
    const service = await server.getPrimaryService(spec.service);
    const ch = await service.getCharacteristic(spec.characteristic);
    ch.addEventListener('characteristicvaluechanged', (e) => this.measurement((e.target as BluetoothRemoteGATTCharacteristic).value));
    await ch.startNotifications();
    this.characteristic = ch;
    this.retries = 0;
    this.set('connected', this.device?.name ?? this.label);
  }

  /** One notification's bytes (also the boundary the browser tests feed recorded bytes at). */
  measurement(value: DataView | null): void {
    if (!value) return;
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const now = Date.now();
    try {
      if (this.kind === 'hr') this.on.heartRate(now, decodeHeartRateMeasurement(bytes));
      else this.on.footPod(now, decodeRscMeasurement(bytes));
    } catch (err) {
      this.on.bad(this.kind, err instanceof IngestError ? err.code : 'BLE_MALFORMED');
    }
  }

  private async reconnect(): Promise<void> {
    if (this.stopped || !this.device) return;
    this.characteristic = null;
    this.set('reconnecting', 'connection lost: retrying');
    while (!this.stopped) {
      const wait = Math.min(30_000, 1000 * 2 ** Math.min(this.retries++, 5));
      await new Promise((r) => setTimeout(r, wait));
      if (this.stopped) return;
      try {
        await this.connect();
        return;
      } catch {
        this.set('reconnecting', `not back yet: retrying in ${Math.round(Math.min(30_000, 1000 * 2 ** Math.min(this.retries, 5)) / 1000)} s`);
      }
    }
  }

  forget(): void {
    this.stopped = true;
    this.device?.gatt?.disconnect();
    this.characteristic = null;
    this.set('unpaired', '');
  }

  private set(state: SensorState, detail: string): void {
    this.state = state;
    this.on.state(this.kind, state, detail);
  }
}
