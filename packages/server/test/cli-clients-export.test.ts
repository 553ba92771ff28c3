import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { parse as parseYaml } from 'yaml';
import { createTessera, loadConfig } from '../src/index.ts';
import { basic, freePort, postForm, startServer } from './helpers.ts';
import { backends } from './support/backends.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');
const CAROL = 'carol-password-0123';

for (const backend of backends) {
  describe(`tessera clients create/update, token decode, config export (${backend.name})`, () => {
    test('every config field as a flag, checked like the file; decode verifies with our keys; the export re-imports', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-clients-'));
      const db = await backend.create();
      const db2 = await backend.create();
      const port = await freePort();
      const issuer = `http://127.0.0.1:${port}`;
      const cfg = join(dir, 'tessera.json');
      writeFileSync(cfg, JSON.stringify({ issuer, dataDir: dir, databaseUrl: db.url }));
      const cli = (args: string[], input = '') => spawnSync(process.execPath, [BIN, '--config', cfg, ...args], { encoding: 'utf8', input, timeout: 60_000 });
      const ok = (args: string[], input = '') => {
        const r = cli(args, input);
        assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
        return r.stdout;
      };
      // spawnSync blocks this process, which also hosts the server: after a long CLI run the server's
      // keep-alive timers and the next request race on an idle socket (ECONNRESET). Let them settle first.
      const post = async (...args: Parameters<typeof postForm>) => {
        await new Promise((r) => setTimeout(r, 20));
        return postForm(...args);
      };
      const secretOf = (out: string) => /client_secret: (\S+)/.exec(out)?.[1];
      const show = (id: string) => JSON.parse(ok(['clients', 'show', id])) as Record<string, unknown>;
      let running: { close(): Promise<void> } | undefined;
      try {
        const s1 = secretOf(ok(['clients', 'create', '--id', 'reports', '--name', 'Reports job', '--scope', 'reports:read', '--audience', 'https://reports.example',
          '--resource', 'https://billing.example', '--access-token-ttl', '2m', '--permission', 'introspect']));
        assert.ok(s1);
        assert.ok(secretOf(ok(['clients', 'create', '--id', 'web', '--grant', 'authorization_code', 'refresh_token', '--scope', 'openid', 'profile',
          '--redirect-uri', 'https://app.example/cb', '--post-logout-redirect-uri', 'https://app.example/', '--first-party'])));
        const spa = ok(['clients', 'create', '--id', 'spa', '--public', '--redirect-uri', 'http://127.0.0.1:5173/cb', '--scope', 'openid']);
        assert.equal(secretOf(spa), undefined, 'a public client gets no secret');
        const legacySecret = secretOf(ok(['clients', 'create', '--id', 'legacy', '--grant', 'password', '--scope', 'openid', '--audience', 'https://reports.example']))!;

        assert.deepEqual(
          (({ name, grantTypes, scopes, audience, resources, accessTokenTtl, permissions }) => ({ name, grantTypes, scopes, audience, resources, accessTokenTtl, permissions }))(show('reports')),
          { name: 'Reports job', grantTypes: ['client_credentials'], scopes: ['reports:read'], audience: 'https://reports.example', resources: ['https://billing.example'], accessTokenTtl: 120, permissions: ['introspect'] },
        );
        const web = show('web');
        assert.equal(web.firstParty, true);
        assert.deepEqual(web.postLogoutRedirectUris, ['https://app.example/']);

        // update changes only what it is given; a list flag without values empties the list.
        ok(['clients', 'update', 'web', '--no-first-party', '--scope', 'openid', '--post-logout-redirect-uri']);
        const web2 = show('web');
        assert.deepEqual([web2.firstParty, web2.scopes, web2.postLogoutRedirectUris, web2.redirectUris], [false, ['openid'], [], ['https://app.example/cb']]);
        const s2 = secretOf(ok(['clients', 'update', 'reports', '--rotate-secret']));
        assert.ok(s2 && s2 !== s1);

        // The config file's rules, named by flag; nothing is stored.
        const badUri = cli(['clients', 'update', 'web', '--redirect-uri', 'http://evil.example/cb']);
        assert.equal(badUri.status, 2);
        assert.match(badUri.stderr, /--redirect-uri http:\/\/evil\.example\/cb: .*loopback/);
        const badTtl = cli(['clients', 'update', 'reports', '--access-token-ttl', '2d']);
        assert.equal(badTtl.status, 2);
        assert.match(badTtl.stderr, /--access-token-ttl: exceeds tokens\.maxAccessTokenTtl/);
        const badType = cli(['clients', 'create', '--id', 'typo', '--type', 'confidentail']);
        assert.match(badType.stderr, /--type: must be one of confidential, public/);

        ok(['users', 'create', 'carol', '--email', 'carol@example.com', '--role', 'user', 'auditor'], `${CAROL}\n`);

        // Export: a config file, hashes only, 0600.
        const exported = join(dir, 'export.yaml');
        ok(['config', 'export', '--output', exported]);
        assert.equal(statSync(exported).mode & 0o777, 0o600);
        const text = readFileSync(exported, 'utf8');
        assert.ok(!text.includes(s1) && !text.includes(s2) && !text.includes(CAROL), 'no plain secret or password');
        const file = parseYaml(text) as { clients: Record<string, unknown>[]; users: Record<string, unknown>[] };
        assert.deepEqual(file.clients.map((c) => c.id).sort(), ['legacy', 'reports', 'spa', 'web'], 'the refused client was not stored');
        assert.deepEqual(file.clients.find((c) => c.id === 'web')!.redirectUris, ['https://app.example/cb'], 'a refused update changed nothing');
        assert.equal(file.clients.find((c) => c.id === 'spa')!.type, 'public');
        assert.match(String(file.clients.find((c) => c.id === 'reports')!.secretHash), /^hmac-sha256\$/);
        assert.match(String(file.users[0]!.passwordHash), /^\$argon2id\$/);
        assert.equal(cli(['config', 'export', '--output', exported]).status, 2, 'an existing file is not overwritten');

        // The server serves what the CLI stored.
        const s = await startServer({ port, databaseUrl: db.url, clients: [] }, dir);
        running = { close: () => s.stop() };
        const tokenFor = async (id: string, secret: string) => postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic(id, secret) });
        assert.equal((await tokenFor('reports', s1)).status, 401, 'the rotated-out secret no longer works');
        const res = await tokenFor('reports', s2);
        assert.equal(res.status, 200);
        const token = ((await res.json()) as { access_token: string }).access_token;
        const claims = decodeJwt(token);
        assert.equal(claims.exp! - claims.iat!, 120, '--access-token-ttl');
        assert.equal(claims.aud, 'https://reports.example');
        const introspected = await post(`${s.url}/introspect`, { token }, { authorization: basic('reports', s2) });
        assert.equal(((await introspected.json()) as { active: boolean }).active, true, '--permission introspect');

        // token decode: header, claims, human times, verified by this server's keys.
        const decoded = cli(['token', 'decode', token]);
        assert.equal(decoded.status, 0, decoded.stdout + decoded.stderr);
        assert.match(decoded.stdout, /"typ": "at\+jwt"/);
        assert.match(decoded.stdout, /"client_id": "reports"/);
        assert.match(decoded.stdout, /exp\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+\(in 2 minutes\)/);
        assert.match(decoded.stdout, /signature\s+verified with this server's key \S+ \(active\)/);
        assert.match(decoded.stdout, /issuer\s+this server/);
        const fromStdin = cli(['token', 'decode'], `${token}\n`);
        assert.equal(fromStdin.status, 0);
        const timeless = (out: string) => out.replace(/\((in )?\d+ \w+( ago)?\)/g, '');
        assert.equal(timeless(fromStdin.stdout), timeless(decoded.stdout));
        const [h, p, sig] = token.split('.');
        const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url')}.${sig}`;
        const tampered = cli(['token', 'decode', forged]);
        assert.equal(tampered.status, 1);
        assert.match(tampered.stdout, /signature\s+NOT verified/);
        assert.equal(cli(['token', 'decode', 'not-a-token']).status, 2);
        assert.equal(cli(['token', 'decode', '--no-verify', `${h}.${p}.${sig}`]).status, 0);
        assert.equal((await post(`${s.url}/revoke`, { token }, { authorization: basic('reports', s2) })).status, 200);
        const revoked = cli(['token', 'decode', token]);
        assert.equal(revoked.status, 1);
        assert.match(revoked.stdout, /revoked\s+YES/);
        assert.ok(!decoded.stdout.includes(token) && !decoded.stdout.includes(s2), 'neither the token nor a secret is echoed');

        const password = await post(`${s.url}/token`, { grant_type: 'password', username: 'carol', password: CAROL, scope: 'openid' }, { authorization: basic('legacy', legacySecret) });
        assert.equal(password.status, 200);
        const carolSub = decodeJwt(((await password.json()) as { access_token: string }).access_token).sub;
        await s.stop();
        running = undefined;

        // The exported file starts a server on an empty database with the same clients and users.
        const again = join(dir, 'export.json');
        ok(['config', 'export', '--format', 'json', '--output', again]);
        const config = loadConfig({ file: again, env: { NODE_ENV: 'test' }, overrides: { issuer, port, host: '127.0.0.1', dataDir: dir, databaseUrl: db2.url, logLevel: 'silent', management: { port: 0 } } });
        const t = await createTessera(config, { logger: false, env: {} });
        await t.listen();
        running = t;
        assert.equal((await post(`${issuer}/token`, { grant_type: 'client_credentials' }, { authorization: basic('reports', s2) })).status, 200);
        const again2 = await post(`${issuer}/token`, { grant_type: 'password', username: 'carol', password: CAROL, scope: 'openid' }, { authorization: basic('legacy', legacySecret) });
        assert.equal(again2.status, 200);
        const body = (await again2.json()) as { access_token: string };
        assert.equal(decodeJwt(body.access_token).sub, carolSub, 'the same subject');
        assert.deepEqual(decodeJwt(body.access_token).roles, ['user', 'auditor']);
      } finally {
        await running?.close();
        await db.drop();
        await db2.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
