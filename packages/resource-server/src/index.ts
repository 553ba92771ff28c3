export { createVerifier, type Verifier } from './verifier.js';
export type { VerifierOptions, RevocationOptions, ClientCredentials } from './options.js';
export type { AuthResult } from './claims.js';
export { extractBearer, type BearerRequest, type BearerOptions, MissingToken } from './bearer.js';
export { toHttpResponse, type HttpErrorResponse } from './http-error.js';
export type { AuthFailure, HttpAuthOptions, AuthSource } from './http-auth.js';
export { checkScopes, checkRoles, checkAcr, checkAuthTime, type Guard } from './guards.js';
export type { DpopOptions } from './dpop/options.js';
export { resolveResourceMetadata, type ResourceMetadataOptions, type ResourceMetadata } from './resource-metadata.js';
