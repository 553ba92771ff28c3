import { isSafeUrl } from './options.js';

/**
 * RFC 9728 protected-resource metadata, given to the Express or Fastify adapter as `resourceMetadata`.
 * The adapter serves it at `/.well-known/oauth-protected-resource` (plus the path-suffixed form for a
 * resource with a path, RFC 9728 §3.1) and names it in every Bearer challenge (`resource_metadata`, §5.1).
 */
export interface ResourceMetadataOptions {
  /** RFC 9728 §2 `resource`: this server's identifier, an https URL without a fragment; it must be one of the verifier's audiences. */
  resource: string;
  /** `authorization_servers`: issuer identifiers (RFC 8414) clients may get tokens from; default the verifier's issuer. */
  authorizationServers?: string[];
  /** `scopes_supported`. */
  scopesSupported?: string[];
  /** `bearer_methods_supported`; default `['header']` (plus `body` when form-body tokens are allowed). */
  bearerMethodsSupported?: string[];
  /** `resource_name` (human-readable). */
  resourceName?: string;
  /** `resource_documentation`, `resource_policy_uri`, `resource_tos_uri`. */
  resourceDocumentation?: string;
  resourcePolicyUri?: string;
  resourceTosUri?: string;
}

/** The resolved document and where it is served. */
export interface ResourceMetadata {
  document: Record<string, unknown>;
  /** The absolute metadata URL announced in `WWW-Authenticate` (RFC 9728 §3.1, §5.1). */
  url: string;
  /** Paths the adapter answers: the path-suffixed form first (when the resource has a path), then the root form. */
  paths: string[];
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * Validates the options (a developer mistake is a TypeError, STYLE 4) and builds the document.
 *
 * @example resolveResourceMetadata({ resource: 'https://mcp.example/mcp' }, { issuer, audience: ['https://mcp.example/mcp'] })
 * // url 'https://mcp.example/.well-known/oauth-protected-resource/mcp'
 */
export function resolveResourceMetadata(o: ResourceMetadataOptions, verifier: { issuer: string; audience: readonly string[] }, bearerMethods: string[] = ['header']): ResourceMetadata {
  const problems: string[] = [];
  const resource = o?.resource;
  if (!isSafeUrl(resource) || new URL(resource).hash !== '' || resource.includes('#')) problems.push('resourceMetadata.resource must be an https URL without a fragment');
  else if (!verifier.audience.includes(resource)) problems.push('resourceMetadata.resource must be one of the verifier audiences (the resource id is the audience)');
  const servers = o?.authorizationServers ?? [verifier.issuer];
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every(isSafeUrl)) problems.push('resourceMetadata.authorizationServers must be https URLs');
  for (const [k, v] of [['scopesSupported', o?.scopesSupported], ['bearerMethodsSupported', o?.bearerMethodsSupported]] as const) {
    if (v !== undefined && (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s !== ''))) problems.push(`resourceMetadata.${k} must be an array of strings`);
  }
  for (const k of ['resourceDocumentation', 'resourcePolicyUri', 'resourceTosUri'] as const) {
    if (o?.[k] !== undefined && !isSafeUrl(o[k])) problems.push(`resourceMetadata.${k} must be an https URL`);
  }
  if (problems.length) throw new TypeError(`invalid resource-server options: ${problems.join('; ')}`);
  const u = new URL(resource);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  const paths = path ? [WELL_KNOWN + path, WELL_KNOWN] : [WELL_KNOWN];
  const document: Record<string, unknown> = {
    resource,
    authorization_servers: servers,
    ...(o.scopesSupported ? { scopes_supported: o.scopesSupported } : {}),
    bearer_methods_supported: o.bearerMethodsSupported ?? bearerMethods,
    ...(o.resourceName ? { resource_name: o.resourceName } : {}),
    ...(o.resourceDocumentation ? { resource_documentation: o.resourceDocumentation } : {}),
    ...(o.resourcePolicyUri ? { resource_policy_uri: o.resourcePolicyUri } : {}),
    ...(o.resourceTosUri ? { resource_tos_uri: o.resourceTosUri } : {}),
  };
  return { document, url: u.origin + paths[0], paths };
}

/** The response an adapter sends for a metadata request (RFC 9728 §3.2): public JSON, readable cross-origin. */
export function metadataResponse(m: ResourceMetadata): { status: number; headers: Record<string, string>; body: string } {
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' },
    body: JSON.stringify(m.document),
  };
}
