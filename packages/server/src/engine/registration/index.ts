export { registerEndpoint, type RegisterRequest } from './register-endpoint.js';
export { readRegistration, updateRegistration, deleteRegistration, type ManageRequest } from './manage-endpoint.js';
export { InvalidClientMetadata, InvalidRedirectUri } from './errors.js';
export { validateMetadata, type ClientMetadata } from './metadata.js';
export { createInitialAccessToken } from './initial-token.js';
