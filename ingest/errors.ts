/**
 * Errors with a stable code and a one-line message. Bad input never surfaces as a stack trace: the CLI and
 * the server print `{ error: { code, message } }` built from these.
 * @module
 */

export type IngestCode =
  | 'FIT_EMPTY'
  | 'FIT_NOT_FIT'
  | 'FIT_BAD_HEADER'
  | 'FIT_CRC_MISMATCH'
  | 'FIT_TRUNCATED'
  | 'FIT_NO_RECORDS'
  | 'FIT_TOO_LARGE'
  | 'FIT_DECODE_FAILED'
  | 'SAMPLE_INVALID';

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
