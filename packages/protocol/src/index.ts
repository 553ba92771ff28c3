export * from './errors.js';
export { parseScope, formatScope, isScopeToken } from './scope.js';
export { challenge, type ChallengeParams } from './www-authenticate.js';
