import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { decodeJwt } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { basic, freePort, postForm, SERVICE_SECRET, serviceClient, startServer, type Running } from '../../../packages/server/test/helpers.ts';
import { alice, users } from '../../../packages/server/test/oidc-helpers.ts';
import { startMcpServer, type RunningMcpServer } from '../src/app.ts';

/**
 * Issue 14 "Real MCP client end to end": the official SDK client (StreamableHTTPClientTransport with an
 * OAuthClientProvider) meets the example MCP server protected by the toolkit. It finds Tessera through
 * RFC 9728 (the 401's resource_metadata), registers itself (RFC 7591, no manual client setup), runs code +
 * PKCE with `resource` (RFC 8707) while headless chromium signs in and consents at Tessera, then lists
 * and calls the tools. A token for another resource is refused by the MCP server.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let tessera: Running;
let mcp: RunningMcpServer;
let browser: Browser;
let callback: Server;
let callbackUrl: string;
const codes: URL[] = [];

/** What an MCP client (an agent on the user's machine) keeps: in memory here, a file or keychain in real ones. */
class AgentProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  constructor(readonly redirectUrl: string) {}
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'SDK test agent', redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() { return this.info; }
  saveClientInformation(info: OAuthClientInformationMixed) { this.info = info; }
  tokens() { return this.saved; }
  saveTokens(tokens: OAuthTokens) { this.saved = tokens; }
  redirectToAuthorization(url: URL) { this.authorizationUrl = url; }
  saveCodeVerifier(v: string) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM}`);
  // The native app's loopback redirect (RFC 8252 §7.3): it only records what the browser brings back.
  callback = createServer((req, res) => {
    codes.push(new URL(req.url ?? '/', callbackUrl));
    res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.');
  });
  await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
  callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
  const port = await freePort();
  mcp = await startMcpServer({ issuer: `http://127.0.0.1:${port}`, port: 0 });
  tessera = await startServer({
    port,
    users,
    clients: [serviceClient],
    registration: { enabled: true, open: true, scopes: ['openid', 'mcp:tools', 'offline_access'], resources: [mcp.url] },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run'] });
});
after(async () => {
  await browser?.close();
  await mcp?.close();
  await tessera?.dispose();
  callback?.close();
});

test('the MCP SDK client discovers Tessera (RFC 9728), registers (RFC 7591), signs in through chromium, lists and calls tools', async () => {
  const provider = new AgentProvider(callbackUrl);
  const first = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider });
  await assert.rejects(new Client({ name: 'agent', version: '1.0.0' }).connect(first), UnauthorizedError);

  // Registered by itself, with what it asked for: a public native client, consent required.
  const clientId = provider.info?.client_id;
  assert.match(clientId ?? '', /^dcr_/);
  const stored = await tessera.tessera.ctx.stores.clients.get(clientId!);
  assert.equal(stored?.source, 'registration');
  assert.equal(stored?.type, 'public');
  assert.deepEqual(stored?.redirectUris, [callbackUrl]);

  const url = provider.authorizationUrl!;
  assert.equal(`${url.origin}${url.pathname}`, `${tessera.url}/authorize`);
  assert.equal(url.searchParams.get('resource'), mcp.url, 'RFC 8707 resource is the MCP server');
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(url.searchParams.get('scope'), 'mcp:tools', 'scope from the resource metadata');

  const page = await (await browser.newContext()).newPage();
  await page.goto(url.href);
  await page.getByLabel('Username or e-mail').fill(alice.username);
  await page.getByLabel('Password').fill(alice.password);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((u) => u.href.startsWith(callbackUrl));
  // The callback server also sees the browser's other requests (e.g. /favicon.ico): take the redirect itself.
  const back = codes.findLast((u) => u.pathname === new URL(callbackUrl).pathname && u.searchParams.has('code'));
  assert.ok(back, 'the authorization response reached the callback');
  assert.equal(back.searchParams.get('iss'), tessera.url, 'RFC 9207');
  await first.finishAuth(back.searchParams.get('code')!);

  const access = provider.saved!.access_token;
  const claims = decodeJwt(access);
  assert.equal(claims.aud, mcp.url, 'aud is the MCP server resource');
  assert.equal(claims.client_id, clientId);

  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider }));
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['add', 'whoami']);
    const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
    assert.deepEqual(sum.content, [{ type: 'text', text: '42' }]);
    const who = await client.callTool({ name: 'whoami', arguments: {} });
    const me = JSON.parse((who.content as { text: string }[])[0]!.text) as { sub: string; client_id: string; scopes: string[] };
    assert.equal(me.client_id, clientId);
    assert.equal(me.sub, claims.sub);
    assert.deepEqual(me.scopes, ['mcp:tools']);
  } finally {
    await client.close();
  }
});

test('the MCP server names its metadata in the 401 and refuses a token for another resource', async () => {
  const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const bare = await fetch(mcp.url, { method: 'POST', headers, body: initialize });
  assert.equal(bare.status, 401);
  const metaUrl = `${new URL(mcp.url).origin}/.well-known/oauth-protected-resource/mcp`;
  assert.equal(bare.headers.get('www-authenticate'), `Bearer realm="${mcp.url}", resource_metadata="${metaUrl}"`);
  const meta = (await (await fetch(metaUrl)).json()) as Record<string, unknown>;
  assert.deepEqual(meta.authorization_servers, [tessera.url]);
  assert.equal(meta.resource, mcp.url);

  // A real Tessera token, for the orders API: right issuer and signature, wrong audience.
  const res = await postForm(`${tessera.url}/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, { authorization: basic(serviceClient.id, SERVICE_SECRET) });
  const orders = ((await res.json()) as { access_token: string }).access_token;
  assert.equal(decodeJwt(orders).aud, 'https://orders.example');
  const refused = await fetch(mcp.url, { method: 'POST', headers: { ...headers, authorization: `Bearer ${orders}` }, body: initialize });
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token".*resource_metadata=/);
});
