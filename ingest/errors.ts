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

/**
 * Every code an activity file (FIT, GPX, TCX, any of them gzipped) can be refused with: decodeActivity
 * (ingest/decode.ts), the upload route, the CLI. One list; the FIT codes are its first part. A byte string that
 * is none of the formats is FIT_NOT_FIT and an empty one FIT_EMPTY, whatever its name says, as before GPX and
 * TCX were read.
 */
export const ACTIVITY_ERROR_CODES = [
  ...FIT_ERROR_CODES,
  /** gzip data that does not decompress (corrupt, or a second gzip layer inside the first). */
  'GZIP_BAD',
  /** gzip data that decompresses past the size limit (a "zip bomb"): stopped at the limit. */
  'GZIP_TOO_LARGE',
  /** An XML file larger than the size limit. */
  'XML_TOO_LARGE',
  /** Not well-formed XML (cut inside the first element, an unclosed tag the parser cannot recover from, …). */
  'XML_MALFORMED',
  /** A DOCTYPE declaring entities: refused, so that no entity expansion ("billion laughs") can happen. */
  'XML_ENTITIES',
  /** Elements nested deeper than any GPX or TCX file needs (MAX_XML_DEPTH). */
  'XML_TOO_DEEP',
  /** Well-formed XML whose root is neither <gpx> nor <TrainingCenterDatabase> (a KML, a course file, …). */
  'XML_UNSUPPORTED',
  /** A GPX file without any track point that has a time (a route or waypoints only, or an empty track). */
  'GPX_NO_POINTS',
  /** A TCX file without any trackpoint that has a time (a course, a workout, or an empty activity). */
  'TCX_NO_POINTS',
] as const;

export type ActivityErrorCode = (typeof ACTIVITY_ERROR_CODES)[number];

const ACTIVITY_CODES: ReadonlySet<string> = new Set(ACTIVITY_ERROR_CODES);

/** True for a code from {@link ACTIVITY_ERROR_CODES} (a refused file, not a fault of the server). */
export function isActivityErrorCode(code: unknown): code is ActivityErrorCode {
  return typeof code === 'string' && ACTIVITY_CODES.has(code);
}

export type IngestCode =
  | ActivityErrorCode
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
