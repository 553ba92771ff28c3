export { createTessera, type Tessera, type TesseraOptions } from './server.js';
export { loadConfig, ConfigError, type LoadOptions } from './config/load.js';
export type { Config, ClientConfig } from './config/schema.js';
export type { GrantHandler, GrantRequest, TokenResponse } from './engine/grants/types.js';
export { UserService, type NewUser } from './engine/users/service.js';
export { hashPassword } from './engine/users/password.js';
export type { User } from './storage/stores.js';
