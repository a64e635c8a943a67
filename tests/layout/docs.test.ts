// The README is for a newcomer: short, no links into ../shared (a clone has none), and every link in it and in
// docs/ leads to a file that is there.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Relative link targets of a markdown page (outside code blocks), without their #anchors. */
function links(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((href) => !/^[a-z]+:/i.test(href) && !href.startsWith('#'))
    .map((href) => href.split('#')[0]!);
}

describe('README and docs', () => {
  it('the README stays short and links nothing outside the repository', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(200);
    expect(readme).not.toMatch(/\.\.\/shared/);
  });

  it.each(pages)('every link in %s leads to a file that exists', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const missing = links(text).filter((href) => !existsSync(join(ROOT, dirname(page), href)));
    expect(missing).toEqual([]);
  });
});
