export { authenticateClient, type AuthenticatedClient, type ClientAuthMethod } from './authenticate.js';
