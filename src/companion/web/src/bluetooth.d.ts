// The part of Web Bluetooth (https://webbluetoothcg.github.io/web-bluetooth/) the companion uses; TypeScript's DOM
// library does not ship it.
interface BluetoothRemoteGATTCharacteristic extends EventTarget {
  readonly value: DataView | null;
  startNotifications(): Promise<BluetoothRemoteGATTCharacteristic>;
  stopNotifications(): Promise<BluetoothRemoteGATTCharacteristic>;
  readValue(): Promise<DataView>;
}
interface BluetoothRemoteGATTService {
  getCharacteristic(name: string | number): Promise<BluetoothRemoteGATTCharacteristic>;
}
interface BluetoothRemoteGATTServer {
  readonly connected: boolean;
  connect(): Promise<BluetoothRemoteGATTServer>;
  disconnect(): void;
  getPrimaryService(name: string | number): Promise<BluetoothRemoteGATTService>;
}
interface BluetoothDevice extends EventTarget {
  readonly id: string;
  readonly name?: string;
  readonly gatt?: BluetoothRemoteGATTServer;
}
interface Bluetooth {
  getAvailability(): Promise<boolean>;
  requestDevice(options: { filters: Array<{ services: Array<string | number> }>; optionalServices?: Array<string | number> }): Promise<BluetoothDevice>;
}
interface Navigator {
  readonly bluetooth?: Bluetooth;
}
