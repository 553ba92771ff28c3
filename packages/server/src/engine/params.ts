import { InvalidRequest } from '@tessera/protocol';

/** A parsed form body: a value per name, an array where the name was repeated. */
export type RawParams = Record<string, string | string[]>;
/** Parameters after the duplicate check: single values, plus the few that RFCs allow to repeat. */

/**
 * RFC 6749 §3.1/§3.2: parameters must not be repeated (except `resource`, RFC 8707 §2), unknown
 * ones are ignored, and empty values count as absent (the form parser already dropped them).
 * Returns the single-valued parameters and the repeated-by-design ones separately.
 */
export function singleValued(raw: RawParams, repeatable: readonly string[] = ['resource']): { params: Record<string, string>; multi: Record<string, string[]> } {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  const multi: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const name of Object.keys(raw)) {
    const v = raw[name]!;
    if (repeatable.includes(name)) {
      multi[name] = Array.isArray(v) ? v : [v];
    } else if (Array.isArray(v)) {
      throw new InvalidRequest(`parameter ${name.slice(0, 40)} is repeated`);
    } else {
      params[name] = v;
    }
  }
  return { params, multi };
}

// NUL (PostgreSQL cannot store it in text: SQLSTATE 22021), or a UTF-16 surrogate without its partner
// (not a Unicode scalar value, so not encodable as UTF-8).
const ILL_FORMED = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The one rule for text arriving from outside (parameters, form fields, credentials, cookies): it is
 * well-formed Unicode without NUL. Checked at the HTTP boundary, so nothing ill-formed reaches a query.
 */
export function isCleanText(s: string): boolean {
  return !ILL_FORMED.test(s);
}

/** Throws `InvalidRequest` when a required parameter is absent. */
export function required(params: Record<string, string>, name: string): string {
  const v = params[name];
  if (v === undefined) throw new InvalidRequest(`missing parameter: ${name}`);
  return v;
}
