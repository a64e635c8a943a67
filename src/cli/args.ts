/**
 * The one argument parser of every `crampguard` command: node:util `parseArgs`, strict (an unknown option or a
 * missing value is refused), with `--help`/`-h` on every command. `-` is a positional (standard input).
 * A refusal prints `crampguard CMD: CODE: message` (a stable code: NO_FILES, BAD_OPTION, UNKNOWN_OPTION,
 * MISSING_VALUE, BAD_ARGUMENT, …) and the usage on stderr and exits 2; `--help` prints the usage on stdout and
 * exits 0.
 * @module
 */
import { parseArgs } from 'node:util';

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };
type Specs = Record<string, OptionSpec>;

/** The parsed values: strings, booleans or string lists by each option's spec; undefined when not given. */
export type Values<S extends Specs> = {
  [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : S[K]['multiple'] extends true ? string[] : string;
};

export interface Parsed<S extends Specs> {
  values: Values<S>;
  positionals: string[];
}

/** Stable codes of usage errors (scripts match on them, never on the words). */
export type UsageCode = 'NO_FILES' | 'TOO_MANY_FILES' | 'BAD_OPTION' | 'UNKNOWN_OPTION' | 'MISSING_VALUE' | 'BAD_ARGUMENT';

/** Writes a usage error the one way every command does, and returns exit status 2. */
export function usageError(command: string, code: UsageCode | string, message: string, usage: string): 2 {
  process.stderr.write(`crampguard ${command}: ${code}: ${message}\n${usage.endsWith('\n') ? usage : `${usage}\n`}`);
  return 2;
}

/** node:util parseArgs' error codes, as ours. */
function parseArgsCode(err: unknown): UsageCode {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return 'UNKNOWN_OPTION';
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return 'MISSING_VALUE';
  return 'BAD_ARGUMENT';
}

/**
 * Parses `argv` for `command`. Returns the values and positionals, or an exit status when the command is done:
 * 0 after `--help`, 2 after a usage error.
 */
export function parseCommand<S extends Specs>(command: string, usage: string, argv: string[], options: S): Parsed<S> | 0 | 2 {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    // node's messages name the option; their advice about '--' is noise for a user.
    const message = (err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    return usageError(command, parseArgsCode(err), message, usage);
  }
  if (parsed.values.help === true) {
    process.stdout.write(usage.endsWith('\n') ? usage : `${usage}\n`);
    return 0;
  }
  return { values: parsed.values as Values<S>, positionals: parsed.positionals };
}

/** A number option within [lo, hi], or a usage error message. */
export function numberOption(flag: string, raw: string | undefined, lo: number, hi: number): number | undefined | { error: string } {
  if (raw === undefined) return undefined;
  const x = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(x) || x < lo || x > hi) return { error: `${flag} needs a number from ${lo} to ${hi}, got '${raw}'` };
  return x;
}
