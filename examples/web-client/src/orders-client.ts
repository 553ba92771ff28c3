import { recordingFetch, type Exchange, type Timeline } from './timeline.js';

/** Calls the orders API with the session's access token as a Bearer token (RFC 6750 §2.1). */
export async function callOrdersApi(timeline: Timeline, ordersApi: string, accessToken: string, method: 'GET' | 'DELETE', path: string): Promise<{ exchange: Exchange; json: unknown }> {
  const send = recordingFetch(timeline, () => `orders API ${method} ${path}`);
  const response = await send(`${ordersApi}${path}`, { method, headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { exchange: timeline.last!, json };
}

/** The highest order id in a `GET /orders` answer, to offer for deletion. */
export function lastOrderId(json: unknown): number | undefined {
  const orders = (json as { orders?: unknown } | undefined)?.orders;
  if (!Array.isArray(orders)) return undefined;
  const ids = orders.map((o) => (o as { id?: unknown }).id).filter((id): id is number => typeof id === 'number');
  return ids.length ? Math.max(...ids) : undefined;
}
