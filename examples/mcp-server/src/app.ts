import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { z } from 'zod';
import { requireAuth, requireScopes } from '@tessera/resource-server/express';
import type { AuthResult } from '@tessera/resource-server';

export interface McpServerOptions {
  /** Tessera's issuer identifier. */
  issuer: string;
  /** Where this server is reachable, e.g. `http://localhost:9003` (default: the bound address); the MCP endpoint is `<baseUrl>/mcp`. */
  baseUrl?: string;
  port: number;
  host?: string;
}

export interface RunningMcpServer {
  /** The MCP endpoint, which is also the RFC 9728 resource id and the token audience. */
  url: string;
  close(): Promise<void>;
}

/** The scope a token needs to use the tools. */
export const MCP_SCOPE = 'mcp:tools';

/** The MCP SDK's view of the verified token (its handlers receive it as `extra.authInfo`). */
function authInfo(a: AuthResult): AuthInfo {
  return { token: a.token ?? '', clientId: a.clientId, scopes: [...a.scopes], ...(typeof a.claims.exp === 'number' ? { expiresAt: a.claims.exp } : {}), extra: { sub: a.sub } };
}

/** One MCP server per request (the SDK's stateless Streamable HTTP mode): two small tools. */
function mcpServer(): McpServer {
  const server = new McpServer({ name: 'tessera-example-mcp', version: '0.1.0' });
  server.registerTool(
    'whoami',
    { description: 'Who the access token was issued to (user and client)', inputSchema: {} },
    async (_args, extra) => ({
      content: [{ type: 'text', text: JSON.stringify({ sub: extra.authInfo?.extra?.sub, client_id: extra.authInfo?.clientId, scopes: extra.authInfo?.scopes }) }],
    }),
  );
  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
  );
  return server;
}

/**
 * An MCP server (Streamable HTTP transport) protected by `@tessera/resource-server`: it publishes RFC 9728
 * protected-resource metadata naming Tessera as its authorization server, answers 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"`, and accepts only tokens whose `aud` is its own
 * resource id (`<baseUrl>/mcp`, what an MCP client sends as RFC 8707 `resource`) with scope `mcp:tools`.
 */
export async function startMcpServer(o: McpServerOptions): Promise<RunningMcpServer> {
  const host = o.host ?? '127.0.0.1';
  const app = express();
  const server: Server = app.listen(o.port, host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const base = o.baseUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
  const resource = `${base.replace(/\/$/, '')}/mcp`;
  const auth = requireAuth({
    issuer: o.issuer,
    audience: resource,
    resourceMetadata: { resource, scopesSupported: [MCP_SCOPE], resourceName: 'Tessera example MCP server' },
  });
  app.use(auth.metadata);
  const handle = async (req: Request, res: Response): Promise<void> => {
    const server = mcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    const withAuth = Object.assign(req, { auth: authInfo(req.auth!) }) as unknown as Request & { auth: AuthInfo };
    await transport.handleRequest(withAuth, res, req.body);
  };
  app.post('/mcp', auth, requireScopes(MCP_SCOPE), express.json({ limit: '1mb' }), (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null });
    });
  });
  // Stateless mode: no server-sent event stream and no sessions to end.
  app.all('/mcp', auth, (_req, res) => void res.status(405).set('allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'method not allowed' }, id: null }));
  return {
    url: resource,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await auth.verifier.close();
    },
  };
}
