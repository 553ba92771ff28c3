import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postForm, startServer } from './helpers.ts';

/** Three failed client authentications from distinct client ids, each claiming another X-Forwarded-For. */
async function failuresFrom(url: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await postForm(`${url}/token`, { grant_type: 'client_credentials', client_id: `nobody-${i}`, client_secret: 'x'.repeat(20) }, { 'x-forwarded-for': `203.0.113.${i + 1}` });
    statuses.push(res.status);
  }
  return statuses;
}

test('X-Forwarded-For is ignored unless the peer is a configured proxy (J2): it cannot dodge per-IP throttling', async () => {
  const limits = { clientAuth: { maxFailuresPerClient: 100, maxFailuresPerIp: 3, window: 60 } };
  const direct = await startServer(limits);
  try {
    assert.deepEqual(await failuresFrom(direct.url), [401, 401, 401, 429], 'spoofed headers do not split the per-IP counter');
  } finally {
    await direct.dispose();
  }
  const proxied = await startServer({ ...limits, trustProxy: ['127.0.0.1'] });
  try {
    assert.deepEqual(await failuresFrom(proxied.url), [401, 401, 401, 401], 'behind a trusted proxy each client IP is counted apart');
  } finally {
    await proxied.dispose();
  }
});
