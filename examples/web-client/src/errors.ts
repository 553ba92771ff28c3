/** A short, safe description of an openid-client or network failure (no tokens in it). */
export function describeError(e: unknown): string {
  if (e && typeof e === 'object') {
    const { error, error_description: description, message } = e as { error?: unknown; error_description?: unknown; message?: unknown };
    if (typeof error === 'string') return typeof description === 'string' ? `${error}: ${description}` : error;
    const cause = (e as { cause?: { code?: unknown } }).cause;
    if (typeof cause?.code === 'string') return `${String(message)} (${cause.code})`;
    if (typeof message === 'string') return message;
  }
  return String(e);
}
