/**
 * Errors with a stable code and a one-line message. Bad input never surfaces as a stack trace: the CLI and
 * the server print `{ error: { code, message } }` built from these.
 * @module
 */

/** Every code a FIT file can be refused with (decodeFit, the upload path, `crampguard samples`). */
export const FIT_ERROR_CODES = [
  'FIT_EMPTY',
  'FIT_NOT_FIT',
  'FIT_BAD_HEADER',
  'FIT_CRC_MISMATCH',
  'FIT_TRUNCATED',
  'FIT_NO_RECORDS',
  'FIT_TOO_LARGE',
  'FIT_DECODE_FAILED',
] as const;

export type IngestCode =
  | (typeof FIT_ERROR_CODES)[number]
  /** A file path given to the CLI or a loader cannot be read (missing, a directory, no permission). */
  | 'FILE_UNREADABLE'
  | 'SAMPLE_INVALID'
  /** A live batch holds more samples than MAX_BATCH_SAMPLES (ingest/live.ts): split it. */
  | 'SAMPLE_BATCH_TOO_LARGE'
  /** A saved live-normaliser or respiration state does not have the expected shape. */
  | 'LIVE_STATE_INVALID'
  /** A Bluetooth LE measurement is shorter than its flags say it must be. */
  | 'BLE_TRUNCATED'
  /** A Bluetooth LE measurement has a length or field value the specification does not allow. */
  | 'BLE_MALFORMED';

export class IngestError extends Error {
  override readonly name = 'IngestError';
  constructor(
    readonly code: IngestCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  toJSON(): { code: IngestCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
