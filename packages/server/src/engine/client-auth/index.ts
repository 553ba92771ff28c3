export { authenticateClientThrottled } from './throttled.js';
export { authenticateClient, claimedClientId, type AuthenticatedClient, type ClientAuthMethod } from './authenticate.js';
export { ClientAssertionVerifier, CLIENT_ASSERTION_TYPE, PRIVATE_KEY_JWT_ALGS, CLIENT_SECRET_JWT_ALGS, clientSecretAad } from './jwt-assertion.js';
export { ClientKeys, jwksUriAllowed } from './client-keys.js';
