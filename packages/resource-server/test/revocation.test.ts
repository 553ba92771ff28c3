// Revocation: the feed subscriber (initial list, SSE push, reconnect + resume, fail closed) and introspection.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { InvalidToken, TemporarilyUnavailable } from '@tessera/protocol';
import { createVerifier, type Verifier } from '../src/index.ts';
import { AUDIENCE, startIssuer, type TestIssuer } from './helpers/issuer.ts';
import { eventually, mountFeed, RS_CLIENT, type FeedServer } from './helpers/feed.ts';

let issuer: TestIssuer;
let feed: FeedServer;
let verifier: Verifier | undefined;
beforeEach(async () => {
  issuer = await startIssuer();
  feed = mountFeed(issuer);
});
afterEach(async () => {
  await verifier?.close();
  verifier = undefined;
  await issuer.close();
});
const exp = () => Math.floor(Date.now() / 1000) + 600;
const withFeed = () => (verifier = createVerifier({ issuer: issuer.url, audience: AUDIENCE, revocation: { feed: RS_CLIENT } }));
const isRevoked = (e: unknown) => e instanceof InvalidToken && /revoked/.test(e.description);

test('feed: revocations already listed at start are refused; others pass', async () => {
  const revoked = randomUUID();
  feed.revoke(revoked, exp());
  const v = withFeed();
  await assert.rejects(v.verify(await issuer.sign({ jti: revoked })), isRevoked);
  assert.equal((await v.verify(await issuer.sign())).sub, 'user-1');
  assert.deepEqual(feed.sinces, [''], 'initial GET without since, Basic auth accepted');
});

test('feed: a pushed revocation refuses an already-verified (cached) token within 1 s', async () => {
  const v = withFeed();
  const jti = randomUUID();
  const token = await issuer.sign({ jti });
  await v.verify(token);
  await v.verify(token);
  await eventually(() => feed.streams.size === 1);
  const t0 = Date.now();
  feed.revoke(jti, exp());
  await eventually(() => v.verify(token).then(() => false, isRevoked), 1000);
  assert.ok(Date.now() - t0 < 1000);
});

test('feed: after a dropped stream it re-reads since the cursor and resumes with Last-Event-ID', async () => {
  const v = withFeed();
  await v.verify(await issuer.sign());
  await eventually(() => feed.streams.size === 1);
  feed.revoke(randomUUID(), exp()); // pushed: cursor c-1
  await new Promise((r) => setTimeout(r, 50));
  const missed = randomUUID();
  feed.revoke(missed, exp(), true); // listed but never pushed: only the re-GET can deliver it
  feed.dropStreams();
  await eventually(() => feed.streams.size === 1, 3000);
  assert.deepEqual(feed.lastEventIds, ['c-0', 'c-2'], 'the stream resumes after what the re-GET returned');
  assert.deepEqual(feed.sinces, ['', 'c-1']);
  await assert.rejects(v.verify(await issuer.sign({ jti: missed })), isRevoked);
});

test('feed: unavailable or refusing our credentials → 503 (fail closed) until it syncs', async () => {
  feed.failWith = 503;
  const v = withFeed();
  const token = await issuer.sign();
  await assert.rejects(v.verify(token), TemporarilyUnavailable);
  feed.failWith = undefined;
  await eventually(() => v.verify(token).then(() => true, () => false), 3000);
  await v.close();
  verifier = createVerifier({ issuer: issuer.url, audience: AUDIENCE, revocation: { feed: { ...RS_CLIENT, clientSecret: 'wrong' } } });
  await assert.rejects(verifier.verify(token), TemporarilyUnavailable);
});

test('feed: close() ends the stream and background work', async () => {
  const v = withFeed();
  await v.verify(await issuer.sign());
  await eventually(() => feed.streams.size === 1);
  await v.close();
  await eventually(() => feed.streams.size === 0);
  const gets = feed.sinces.length;
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(feed.sinces.length, gets, 'no reconnect after close');
});

test('introspection: active:false is refused, answers are cached briefly, failures are 503', async () => {
  const mk = (cacheSeconds: number) => (verifier = createVerifier({ issuer: issuer.url, audience: AUDIENCE, revocation: { introspection: { ...RS_CLIENT, cacheSeconds } } }));
  let v = mk(60);
  const token = await issuer.sign();
  await v.verify(token);
  await v.verify(token);
  assert.equal(feed.introspections, 1, 'second call served from the introspection cache');
  await assert.rejects(v.verify(`${token.slice(0, -4)}AAAA`), InvalidToken);
  assert.equal(feed.introspections, 1, 'a bad signature is refused locally, without a network call');
  await v.close();
  v = mk(0);
  feed.inactive.add(token);
  await assert.rejects(v.verify(token), (e: InvalidToken) => e instanceof InvalidToken && /not active/.test(e.description));
  feed.failWith = 500;
  await assert.rejects(v.verify(await issuer.sign()), TemporarilyUnavailable);
});
