import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, postForm, SERVICE_SECRET, startServer } from './helpers.ts';

test('/metrics: tokens per grant and client type, errors per code, latency histogram, database health', async () => {
  const s = await startServer();
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal((await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', SERVICE_SECRET) })).status, 200);
    }
    await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', 'wrong-secret-xxxxxxxx') });
    await postForm(`${s.url}/token`, { grant_type: 'nope' }, { authorization: basic('svc', SERVICE_SECRET) });
    const res = await fetch(`${s.managementUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /tessera_tokens_issued_total\{grant_type="client_credentials",client_type="confidential"\} 3/);
    assert.match(text, /tessera_oauth_errors_total\{error="invalid_client"\} 1/);
    assert.match(text, /tessera_oauth_errors_total\{error="unsupported_grant_type"\} 1/);
    // Every request lands in the +Inf bucket; the 0.1 s bucket exists (how many fall in it depends on the machine's load).
    assert.match(text, /tessera_http_request_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/token",status="200"\} 3/);
    assert.match(text, /tessera_http_request_duration_seconds_bucket\{le="0\.1",method="POST",route="\/token",status="200"\} [0-3]\n/);
    assert.match(text, /tessera_database_up 1/);
    assert.match(text, /tessera_process_resident_memory_bytes/);
    assert.ok(!text.includes(SERVICE_SECRET));
  } finally {
    await s.dispose();
  }
});

test('security events are counted: a client reusing its PKCE challenge (B13) is flagged', async () => {
  const { Agent, alice, authorize, authParams, pkce, startOidcServer } = await import('./oidc-helpers.ts');
  const s = await startOidcServer();
  try {
    const { challenge } = pkce();
    const agent = new Agent(s.url);
    await authorize(agent, authParams(challenge), alice);
    const before = await (await fetch(`${s.managementUrl}/metrics`)).text();
    assert.doesNotMatch(before, /tessera_security_events_total\{event="pkce_challenge_reused"\}/);
    await authorize(agent, authParams(challenge), alice);
    const after = await (await fetch(`${s.managementUrl}/metrics`)).text();
    assert.match(after, /tessera_security_events_total\{event="pkce_challenge_reused"\} 1/);
    await authorize(agent, authParams(pkce().challenge), alice);
    assert.match(await (await fetch(`${s.managementUrl}/metrics`)).text(), /tessera_security_events_total\{event="pkce_challenge_reused"\} 1/, 'a fresh challenge is not flagged');
  } finally {
    await s.dispose();
  }
});

test('management listener (issue 16 §6): /metrics only there; /healthz and /readyz on both; management: false has none', async () => {
  const s = await startServer();
  try {
    assert.notEqual(s.managementUrl, s.url);
    const main = await fetch(`${s.url}/metrics`);
    assert.equal(main.status, 404, '/metrics is not on the main port');
    assert.doesNotMatch(await main.text(), /tessera_/);
    const mgmt = await fetch(`${s.managementUrl}/metrics`);
    assert.equal(mgmt.status, 200);
    assert.match(await mgmt.text(), /tessera_database_up 1/);
    for (const base of [s.url, s.managementUrl]) {
      assert.equal((await fetch(`${base}/healthz`)).status, 200, `${base}/healthz`);
      assert.equal((await fetch(`${base}/readyz`)).status, 200, `${base}/readyz`);
    }
    assert.equal((await fetch(`${s.managementUrl}/token`, { method: 'POST' })).status, 404, 'the protocol endpoints are not on the management port');
  } finally {
    await s.dispose();
  }
  const off = await startServer({ management: false });
  try {
    assert.equal(off.managementUrl, '');
    assert.equal(off.tessera.management, undefined);
    assert.equal((await fetch(`${off.url}/metrics`)).status, 404);
  } finally {
    await off.dispose();
  }
});
