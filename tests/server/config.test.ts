// Configuration from the environment: defaults, validation with one clear line, and the serve command's exit code.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/server/config.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'crampguard.js');

describe('server configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      dataDir: './data',
      databaseUrl: undefined,
      redisUrl: undefined,
      uploadLimitBytes: 32 * 1024 * 1024,
      registrationOpen: true,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every variable, treating empty ones as unset', () => {
    const c = loadConfig({
      PORT: '0',
      DATA_DIR: '/tmp/x',
      DATABASE_URL: 'postgres://u@h:5432/db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      UPLOAD_LIMIT_MB: '2.5',
      REGISTRATION: 'closed',
      LOG_LEVEL: '',
    });
    expect(c).toMatchObject({ port: 0, dataDir: '/tmp/x', registrationOpen: false, uploadLimitBytes: 2.5 * 1024 * 1024, logLevel: 'info' });
    expect(c.databaseUrl).toBe('postgres://u@h:5432/db');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ UPLOAD_LIMIT_MB: '-1' }, 'UPLOAD_LIMIT_MB'],
    [{ REGISTRATION: 'maybe' }, 'REGISTRATION'],
  ])('refuses %o naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^bad configuration: ${name}`));
  });

  it('`crampguard serve` with a bad value exits 2 with one line, no stack', () => {
    const r = spawnSync(process.execPath, [BIN, 'serve'], { env: { ...process.env, PORT: 'x' }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('PORT');
    const help = execFileSync(process.execPath, [BIN, 'serve', '--help'], { encoding: 'utf8' });
    expect(help).toContain('UPLOAD_LIMIT_MB');
  });
});
