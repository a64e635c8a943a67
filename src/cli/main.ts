/**
 * `crampguard <command> …`: one dispatcher, one module per command, loaded only when used so that
 * `crampguard samples` does not pay for the server's start-up.
 * @module
 */

export type CommandModule = { run(argv: string[]): Promise<number> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  samples: { summary: 'print a FIT file\'s normalised samples as NDJSON', load: () => import('./samples.js') },
  inspect: { summary: 'print a short summary of a FIT file', load: () => import('./inspect.js') },
  analyze: { summary: 'analyse FIT files: metrics, risk and the prompts that would have fired', load: () => import('./analyze.js') },
  serve: { summary: 'start the server (REST API, watch socket, dashboard)', load: () => import('./serve.js') },
  replay: { summary: 'play a recorded run to a server as a watch would', load: () => import('./replay.js') },
  export: { summary: 'convert an activity file to FIT, GPX or CSV, or its report to JSON', load: () => import('./export.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`);
  return `usage: crampguard <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`crampguard: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}
