export { ACR_MFA, ACR_PWD, ACR_VALUES_SUPPORTED, PASSWORD_AMR, TOTP_AMR, acrOf, amrOf, mfaRequired } from './policy.js';
export { TotpFactors, type SecondFactor, type TotpSetup } from './totp.js';
export { SecondFactorThrottle } from './throttle.js';
export { SecondStepTickets } from './ticket.js';
export { RECOVERY_CODE_COUNT } from './recovery-codes.js';
