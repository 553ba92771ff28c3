/**
 * JSON.parse keeps the last of duplicate member names; RFC 7515 §5.2 step 4 / RFC 7519 §7.2 step 4 say a
 * JWS or JWT with duplicates must be rejected (or use lexically-last, which hides attacks). We reject.
 * Returns undefined for invalid JSON or any duplicate member name (compared after unescaping).
 */
export function parseJsonNoDuplicates(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return hasDuplicateKeys(text) ? undefined : value;
}

/** Scans text that JSON.parse already accepted; a frame is a Set of seen keys (object) or null (array). */
function hasDuplicateKeys(text: string): boolean {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.has(key)) return true;
        top.add(key);
        expectKey = false;
      }
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack.at(-1) instanceof Set;
    }
  }
  return false;
}
