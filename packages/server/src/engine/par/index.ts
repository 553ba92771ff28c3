export { parEndpoint, PAR_TTL, REQUEST_URI_PREFIX, type ParRequest, type ParResponse } from './par-endpoint.js';
export { resolveAuthorizationRequest } from './resolve.js';
export { InvalidRequestUri } from './errors.js';
