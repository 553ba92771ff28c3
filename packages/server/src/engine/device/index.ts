export { DeviceFlow, UserCodeRejected, type PendingDevice } from './flow.js';
export { DEVICE_GRANT, type DeviceAuthorizationResponse } from './authorization.js';
export { KyselyDeviceCodeStore } from './kysely-store.js';
export { formatUserCode, normalizeUserCode, newUserCode, USER_CODE_ALPHABET } from './user-code.js';
export type { DeviceCode, DeviceCodeStore, DeviceCodeStatus } from './store.js';
