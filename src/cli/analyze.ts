// Placeholder until this command lands; the owning issue replaces this file.
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('crampguard analyze: not available yet\n');
  return 2;
}
