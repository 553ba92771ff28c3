import type { Client, User } from '../../storage/stores.js';

/**
 * Authentication context classes (OIDC Core §2 `acr`) this server issues and accepts in `acr_values`:
 * `urn:tessera:acr:pwd` for a password alone, `urn:tessera:acr:mfa` for a password plus a second
 * factor. Listed as `acr_values_supported` in the metadata.
 */
export const ACR_PWD = 'urn:tessera:acr:pwd';
export const ACR_MFA = 'urn:tessera:acr:mfa';
export const ACR_VALUES_SUPPORTED = [ACR_PWD, ACR_MFA] as const;

/** RFC 8176 method references of a password sign-in, and of password + TOTP (or a recovery code). */
export const PASSWORD_AMR: readonly string[] = ['pwd'];
export const TOTP_AMR: readonly string[] = ['pwd', 'otp', 'mfa'];

/** The methods of a session, code or refresh family; rows from before migration 012 were password-only. */
export function amrOf(x: { amr?: string[] | undefined }): string[] {
  return x.amr ?? [...PASSWORD_AMR];
}

/** The `acr` value that describes `amr`. */
export function acrOf(amr: readonly string[]): string {
  return amr.includes('mfa') ? ACR_MFA : ACR_PWD;
}

/**
 * Whether a sign-in for this request must include a second factor: the user's `mfa: required`, the
 * client's `requireMfa`, or `acr_values` naming `urn:tessera:acr:mfa` (treated as required, so a resource
 * server's RFC 9470 step-up challenge is honoured rather than answered with a weaker `acr`).
 */
export function mfaRequired(user: Pick<User, 'mfaRequired'> | undefined, client: Pick<Client, 'requireMfa'>, acrValues: readonly string[] | undefined): boolean {
  return user?.mfaRequired === true || client.requireMfa === true || (acrValues ?? []).includes(ACR_MFA);
}
