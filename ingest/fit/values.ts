/**
 * Reading fit-file-parser's loosely typed output safely: its declared types do not match run time
 * (timestamps are typed string but are Date objects; enums fall back to numbers), so every read goes
 * through these helpers and anything unexpected becomes "missing".
 * @module
 */
import type { IngestWarning } from '../sample.js';

/** A parsed FIT message as fit-file-parser returns it. */
export type FitMessage = Readonly<Record<string, unknown>>;

/** A finite number, or NaN for anything else (absent, null, string, array). */
export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

/** Epoch ms from a Date (what fit-file-parser really returns), an ISO string (what it declares), or NaN. */
export function timeMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') return Date.parse(v);
  return NaN;
}

/** A profile enum as a name: fit-file-parser gives the name when it knows it, else the raw number. */
export function enumName(v: unknown, lookup?: (n: number) => string | null): string | null {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return lookup?.(v) ?? String(v);
  return null;
}

/** Collects warnings by code so that a thousand dropped values make one warning with a count. */
export class WarningLog {
  private readonly byCode = new Map<string, IngestWarning>();

  add(code: string, message: string, count = 1): void {
    const existing = this.byCode.get(code);
    if (existing) existing.count = (existing.count ?? 1) + count;
    else this.byCode.set(code, { code, message, count });
  }

  list(): IngestWarning[] {
    return [...this.byCode.values()];
  }
}
