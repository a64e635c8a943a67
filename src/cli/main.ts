/**
 * `crampguard <command> …`: one dispatcher, one module per command, loaded only when used so that
 * `crampguard samples` does not pay for the server's start-up. Conventions for every command (docs/cli.md):
 * `--help` exits 0, bad usage exits 2 with a message on stderr, results on stdout and errors on stderr, and a
 * reader that goes away (`| head`) ends the output quietly.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CommandModule = { run(argv: string[]): Promise<number> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  samples: { summary: 'print an activity file\'s normalised samples as NDJSON (FIT, GPX, TCX, .gz)', load: () => import('./samples.js') },
  inspect: { summary: 'print a short summary of an activity file', load: () => import('./inspect.js') },
  analyze: { summary: 'analyse activity files: metrics, risk and the prompts that would have fired', load: () => import('./analyze.js') },
  serve: { summary: 'start the server (REST API, watch socket, dashboard)', load: () => import('./serve.js') },
  replay: { summary: 'play a recorded run to a server as a watch would', load: () => import('./replay.js') },
  export: { summary: 'convert an activity file to FIT, GPX or CSV, or its report to JSON', load: () => import('./export.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`);
  return (
    `usage: crampguard <command> [options]   (crampguard <command> --help for its options)\n` +
    `       crampguard --version\n\ncommands:\n${lines.join('\n')}\n`
  );
}

/** The package's version, from the package.json above this module (source or dist/). */
export function version(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'crampguard' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

let quietPipe = false;
/**
 * A closed stdout (`crampguard analyze … | head`) ends the process quietly with the status so far, instead of
 * an unhandled EPIPE stack. Commands that stream (samples) also stop writing when it happens.
 */
function endQuietlyOnClosedPipe(): void {
  if (quietPipe) return;
  quietPipe = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`crampguard ${version()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`crampguard: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}
