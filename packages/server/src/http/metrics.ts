import client from 'prom-client';
import type { FastifyInstance } from 'fastify';

/** Prometheus metrics (issue 6 §6): issuance per grant and client type, errors per code, latency, health. */
export class Metrics {
  readonly registry = new client.Registry();
  readonly tokensIssued = new client.Counter({ name: 'tessera_tokens_issued_total', help: 'Token responses by grant type and client type', labelNames: ['grant_type', 'client_type'], registers: [this.registry] });
  readonly oauthErrors = new client.Counter({ name: 'tessera_oauth_errors_total', help: 'OAuth error responses by error code', labelNames: ['error'], registers: [this.registry] });
  readonly securityEvents = new client.Counter({ name: 'tessera_security_events_total', help: 'Audit events (reuse detected, revocations by users and admins)', labelNames: ['event'], registers: [this.registry] });
  readonly revocations = new client.Counter({ name: 'tessera_revocations_total', help: 'Access tokens put on the denylist, by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly duration = new client.Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'Request latency by route',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly databaseUp = new client.Gauge({ name: 'tessera_database_up', help: '1 when the database answered the last readiness check', registers: [this.registry] });
  readonly redisUp = new client.Gauge({ name: 'tessera_redis_up', help: '1 when Redis is connected (absent without Redis)', registers: [this.registry] });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'tessera_' });
  }

  /** Times every request and serves GET /metrics (text exposition format). */
  register(app: FastifyInstance, refresh: () => Promise<void>): void {
    this.observe(app);
    this.serve(app, refresh);
  }

  /** Times every request of `app`. */
  observe(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.duration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
  }

  /** Serves GET /metrics on `app` (the management listener). */
  serve(app: FastifyInstance, refresh: () => Promise<void>): void {
    app.get('/metrics', async (_request, reply) => {
      await refresh();
      return reply.header('cache-control', 'no-store').type(this.registry.contentType).send(await this.registry.metrics());
    });
  }
}
