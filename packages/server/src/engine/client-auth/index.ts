export { authenticateClientThrottled } from './throttled.js';
export { authenticateClient, claimedClientId, type AuthenticatedClient, type ClientAuthMethod } from './authenticate.js';
