/**
 * `crampguard serve`: the REST API, the /watch socket and the dashboard on one port. Configuration comes from
 * the environment (src/server/config.ts); a bad value stops the start with one line and exit code 2.
 * @module
 */
import { ConfigError, loadConfig } from '../server/config.js';
import { settingsHelp } from '../server/settings-doc.js';
import { parseCommand, usageError } from './args.js';

export async function run(argv: string[]): Promise<number> {
  const usage = () => `usage: crampguard serve\n\nStarts the server (REST API under /api, socket.io namespace /watch, dashboard).\n\n${settingsHelp()}`;
  const short = 'usage: crampguard serve   (configuration comes from the environment; see crampguard serve --help)\n';
  const args = parseCommand('serve', argv.some((a) => a === '--help' || a === '-h') ? usage() : short, argv, {});
  if (typeof args === 'number') return args;
  if (args.positionals.length > 0) return usageError('serve', 'BAD_ARGUMENT', `unexpected argument '${args.positionals[0]}'`, short);
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`crampguard serve: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const { startServer } = await import('../server/server.js');
  let server;
  try {
    server = await startServer(config);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`crampguard serve: could not start: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    return 1;
  }
  // The one line for a person (stdout carries the JSON logs): where to open the dashboard.
  process.stderr.write(`crampguard serve: open ${server.openUrl} in a browser\n`);
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      server.log.info({ signal }, 'shutting down');
      server.close().then(
        () => resolve(0),
        (err: unknown) => {
          server.log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
