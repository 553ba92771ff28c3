import { InvalidScope } from './errors.js';

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Parses a space-delimited scope string into its distinct tokens, in order of first appearance.
 * Throws `InvalidScope` for a token outside the RFC 6749 §3.3 grammar.
 *
 * @example parseScope('openid  orders:read') // ['openid', 'orders:read']
 */
export function parseScope(value: string | undefined, maxTokens = 64): string[] {
  if (value === undefined || value === '') return [];
  const tokens = value.split(' ').filter((t) => t !== '');
  if (tokens.length > maxTokens) throw new InvalidScope('too many scope values');
  for (const t of tokens) {
    if (!SCOPE_TOKEN.test(t)) throw new InvalidScope('scope contains characters outside RFC 6749 §3.3');
  }
  return [...new Set(tokens)];
}

export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

export function formatScope(scopes: Iterable<string>): string {
  return [...scopes].join(' ');
}
