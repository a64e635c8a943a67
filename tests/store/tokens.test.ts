// The one rule both stores authenticate by (src/store/shared.ts): the row found by the digest's index lookup must
// hold exactly the token's digest, compared in constant time.
import { describe, expect, it } from 'vitest';
import { athleteForToken, hashToken, newToken } from '../../src/store/shared.js';

const rowFor = (tokenHash: string) => ({ id: 'a1', name: 'Ada', profile: '{}', created_at: 0, token_hash: tokenHash });
/** The same string with its character at `i` changed. */
const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);

describe('athleteForToken', () => {
  const token = newToken();

  it("accepts the row holding the token's digest, without handing the digest on", () => {
    const athlete = athleteForToken(rowFor(hashToken(token)), token);
    expect(athlete).toMatchObject({ id: 'a1', name: 'Ada' });
    expect(JSON.stringify(athlete)).not.toContain(hashToken(token));
  });

  it('refuses a token differing in one character, wherever that character is', () => {
    const row = rowFor(hashToken(token));
    for (const i of [0, 3, 20, token.length - 1]) {
      const other = flip(token, i);
      expect(other).not.toBe(token);
      expect(other.length).toBe(token.length);
      expect(athleteForToken(row, other)).toBeNull();
    }
  });

  it('refuses a row whose stored digest differs from the computed one (the lookup is not trusted alone)', () => {
    const digest = hashToken(token);
    for (const i of [0, 31, 63]) {
      expect(flip(digest, i)).not.toBe(digest);
      expect(athleteForToken(rowFor(flip(digest, i)), token)).toBeNull();
    }
    expect(athleteForToken(rowFor(digest.toUpperCase().slice(0, 62)), token)).toBeNull(); // shorter: no throw
    expect(athleteForToken(rowFor(''), token)).toBeNull();
    expect(athleteForToken(undefined, token)).toBeNull();
    expect(athleteForToken({ ...rowFor(digest), token_hash: null }, token)).toBeNull();
  });
});
