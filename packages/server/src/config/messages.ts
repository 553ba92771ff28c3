import { Kind, type TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/value';

/**
 * One readable line for a schema violation. TypeBox says only "Expected union value" for a union, which
 * does not tell an operator what to write: list the allowed values (or what each alternative accepts).
 */
export function schemaProblem(e: ValueError): string {
  const at = e.path.slice(1).replace(/\//g, '.') || '(root)';
  const description = (e.schema as TSchema).description;
  if (e.type === ValueErrorType.StringPattern && typeof description === 'string') return `${at}: must be ${description}`;
  if (e.type === ValueErrorType.Literal) return `${at}: must be ${String((e.schema as TSchema).const)} (got ${shown(e.value)})`;
  if (e.type !== ValueErrorType.Union) return `${at}: ${e.message}`;
  const members = (e.schema as TSchema & { anyOf?: TSchema[] }).anyOf ?? [];
  if (members.length && members.every((m) => m[Kind] === 'Literal')) {
    return `${at}: must be one of ${members.map((m) => String(m.const)).join(', ')} (got ${shown(e.value)})`;
  }
  return `${at}: must be ${typeof description === 'string' ? description : members.map(describe).join(', or ')}`;
}

function describe(s: TSchema): string {
  if (typeof s.description === 'string') return s.description;
  switch (s[Kind]) {
    case 'Literal':
      return String(s.const);
    case 'Boolean':
      return 'true or false';
    case 'Integer':
    case 'Number':
      return typeof s.minimum === 'number' ? `a number ≥ ${s.minimum}` : 'a number';
    case 'String':
      return 'a string';
    case 'Array':
      return `a list of ${describe((s as TSchema & { items: TSchema }).items).replace(/^an? /, '')}s`;
    default:
      return String(s[Kind]).toLowerCase();
  }
}

/** The rejected value, briefly (a mistyped enum is short; anything long may be something private). */
function shown(v: unknown): string {
  if (typeof v === 'string') return v.length <= 32 ? JSON.stringify(v) : 'a long string';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return Array.isArray(v) ? 'a list' : typeof v;
}
