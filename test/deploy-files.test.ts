/**
 * compose.yaml, deploy/tessera.yaml and deploy/nginx.conf agree with each other and with what Tessera
 * accepts (no container engine here to run them; test/packaging.test.ts runs the image's steps).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../packages/server/src/config/load.ts';

const ROOT = join(import.meta.dirname, '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

interface Service {
  build?: string;
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, { ipv4_address?: string }> | string[];
}

describe('deployment files', () => {
  const compose = parseYaml(read('compose.yaml'), { merge: true }) as { services: Record<string, Service> };
  const instances = Object.entries(compose.services).filter(([, s]) => s.build === '.');

  test('compose.yaml: two Tessera instances of one image on one PostgreSQL and Redis, behind nginx', () => {
    assert.deepEqual(instances.map(([n]) => n), ['tessera-1', 'tessera-2']);
    for (const [name, s] of instances) {
      const env = s.environment ?? {};
      assert.match(env.DATABASE_URL ?? '', /^postgres:\/\/tessera:.*@db:5432\/tessera$/, name);
      assert.equal(env.REDIS_URL, 'redis://redis:6379');
      assert.match(env.TESSERA_SECRET ?? '', /^\$\{TESSERA_SECRET:\?/, 'no default secret: compose refuses to start without one');
      assert.equal(env.TESSERA_CONFIG, '/config/tessera.yaml');
      assert.ok(s.volumes?.includes('./deploy/tessera.yaml:/config/tessera.yaml:ro'));
      assert.ok(s.volumes?.some((v) => v.endsWith(':/data')), 'its own /data volume');
      assert.equal(s.depends_on?.db?.condition, 'service_healthy');
    }
    assert.equal(instances[0]![1].environment?.TESSERA_SECRET, instances[1]![1].environment?.TESSERA_SECRET);
    assert.ok(compose.services.db && compose.services.redis);
    const nginx = compose.services.nginx!;
    assert.equal(nginx.depends_on?.['tessera-1']?.condition, 'service_healthy', 'waits for the image HEALTHCHECK (/readyz)');
  });

  test('nginx proxies to both instances on the configured port, and only nginx is a trusted proxy', () => {
    const nginxConf = read('deploy/nginx.conf');
    const config = loadConfig({
      file: join(ROOT, 'deploy/tessera.yaml'),
      // The instances' environment in compose.yaml, in production mode as the image runs.
      env: { NODE_ENV: 'production', TESSERA_ISSUER: 'http://localhost:8080', DATABASE_URL: 'postgres://tessera:pw@db:5432/tessera', REDIS_URL: 'redis://redis:6379', TESSERA_DATA_DIR: '/data' },
    });
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.dataDir, '/data', 'TESSERA_DATA_DIR: the image volume');
    const upstream = /upstream tessera \{([^}]*)\}/.exec(nginxConf)![1]!;
    for (const [name] of instances) assert.match(upstream, new RegExp(`server ${name}:${config.port}\\b`));
    const networks = compose.services.nginx!.networks as Record<string, { ipv4_address?: string }>;
    assert.deepEqual(config.trustProxy, [networks.tessera!.ipv4_address]);
    assert.match(nginxConf, /proxy_set_header X-Forwarded-For \$remote_addr;/, 'the client cannot choose its forwarded address');
    assert.match(nginxConf, /location = \/revocations\/stream \{[^}]*proxy_buffering off;/);
  });

  test('TESSERA_DATA_DIR overrides dataDir from the file', () => {
    assert.equal(loadConfig({ env: { TESSERA_DATA_DIR: '/srv/tessera' }, overrides: {} }).dataDir, '/srv/tessera');
    assert.equal(loadConfig({ env: {} }).dataDir, './data');
  });
});
