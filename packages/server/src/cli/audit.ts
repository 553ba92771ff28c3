import type { Command } from 'commander';
import { addSubscription, WebhookUrlError } from '../engine/audit/webhooks.js';
import type { DeliveryStatus } from '../engine/audit/store.js';
import { withContext } from './context.js';
import { fail, list } from './util.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `--since`: an ISO 8601 time, or a duration back from now (`15m`, `24h`, `7d`). */
function parseSince(v: string): number {
  const d = /^(\d+)(s|m|h|d)$/.exec(v);
  if (d) return Date.now() - Number(d[1]) * UNITS[d[2]!]! * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) fail([`--since ${v.slice(0, 64)}: an ISO time (2026-01-31T12:00:00Z) or a duration such as 24h`]);
  return t;
}

function parseLimit(v: string | undefined, max = 1000): number {
  if (v === undefined) return 50;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) fail([`--limit: a whole number from 1 to ${max}`]);
  return Number(v);
}

const iso = (ms: number) => new Date(ms).toISOString();

export function auditCommands(program: Command, configFile: () => string | undefined): void {
  program
    .command('audit')
    .description('the audit log')
    .command('list')
    .description('audit events, newest first')
    .option('--type <type>', 'only this event type (e.g. login_failed)')
    .option('--user <sub>', 'only events about or by this user (sub, or the actor)')
    .option('--client <id>', 'only events of this client')
    .option('--since <time>', 'ISO time or a duration back from now (24h)')
    .option('--limit <n>', 'at most n events (default 50, at most 1000)')
    .option('--json', 'print JSON (one array)')
    .action(async (o: { type?: string; user?: string; client?: string; since?: string; limit?: string; json?: boolean }) => {
      const limit = parseLimit(o.limit);
      const since = o.since === undefined ? undefined : parseSince(o.since);
      await withContext(configFile(), async (ctx) => {
        const events = await ctx.auditStore.query({ type: o.type, user: o.user, client: o.client, since, limit });
        if (o.json) return console.log(JSON.stringify(events, null, 2));
        list(
          events.map((e) => [iso(e.time), e.type, e.outcome, e.actor ?? '-', e.subject ?? '-', e.clientId ?? '-', e.ip ?? '-', JSON.stringify(e.details)]),
          ['TIME', 'TYPE', 'OUTCOME', 'ACTOR', 'SUBJECT', 'CLIENT', 'IP', 'DETAILS'],
        );
      });
    });

  const webhooks = program.command('webhooks').description('webhook subscriptions (Standard Webhooks signatures)');
  webhooks
    .command('add <url>')
    // The audit event names the URL's origin only: paths of webhook URLs often carry a secret.
    .description('subscribe a URL to audit events; prints the signing secret once')
    .requiredOption('--event <type...>', 'event types to deliver (* = all)')
    .action(async (url: string, o: { event: string[] }) => {
      await withContext(configFile(), async (ctx) => {
        let r;
        try {
          r = await addSubscription(ctx.webhooks, ctx.box, { url, eventTypes: o.event, production: ctx.config.production });
        } catch (e) {
          if (e instanceof WebhookUrlError) fail([e.message]);
          throw e;
        }
        await ctx.audit('webhook_added', { webhookId: r.subscription.id, origin: new URL(r.subscription.url).origin, eventTypes: r.subscription.eventTypes });
        console.log(`webhook ${r.subscription.id} added`);
        console.log(`signing secret: ${r.secret}\n(shown once; store it now)`);
      });
    });

  webhooks
    .command('list')
    .description('webhook subscriptions')
    .action(async () => {
      await withContext(configFile(), async (ctx) => {
        list((await ctx.webhooks.list()).map((s) => [s.id, s.url, s.eventTypes.join(','), iso(s.createdAt)]), ['ID', 'URL', 'EVENTS', 'CREATED']);
      });
    });

  webhooks
    .command('remove <id>')
    .description('remove a subscription (its pending deliveries go with it)')
    .action(async (id: string) => {
      await withContext(configFile(), async (ctx) => {
        if (!(await ctx.webhooks.remove(id))) fail([`no webhook ${id.slice(0, 64)}`]);
        await ctx.audit('webhook_removed', { webhookId: id });
        console.log(`webhook ${id} removed`);
      });
    });

  webhooks
    .command('deliveries')
    .description('recent deliveries with their status, attempts and last answer')
    .option('--webhook <id>', 'only this subscription')
    .option('--status <status>', 'pending, delivered or failed')
    .option('--limit <n>', 'at most n (default 50)')
    .option('--json', 'print JSON (one array, without bodies)')
    .action(async (o: { webhook?: string; status?: string; limit?: string; json?: boolean }) => {
      if (o.status !== undefined && !['pending', 'delivered', 'failed'].includes(o.status)) fail(['--status: pending, delivered or failed']);
      const limit = parseLimit(o.limit);
      await withContext(configFile(), async (ctx) => {
        const rows = await ctx.webhooks.deliveries({ subscriptionId: o.webhook, status: o.status as DeliveryStatus | undefined, limit });
        if (o.json) return console.log(JSON.stringify(rows.map(({ payload: _payload, ...d }) => d), null, 2));
        list(
          rows.map((d) => [d.id, d.subscriptionId, d.eventType, d.status, String(d.attempts), d.lastStatus === undefined ? '-' : String(d.lastStatus), d.lastError ?? '-', iso(d.updatedAt)]),
          ['ID', 'WEBHOOK', 'EVENT', 'STATUS', 'ATTEMPTS', 'LAST HTTP', 'LAST ERROR', 'UPDATED'],
        );
      });
    });
}
