import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { MfaStore } from '../../storage/stores.js';
import type { SecretBox } from '../keys/secret-box.js';
import { newRecoveryCodes, normalizeRecoveryCode, recoveryCodeHash } from './recovery-codes.js';

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30 s. */
const PERIOD = 30;

/** A pending enrolment as the setup page shows it. */
export interface TotpSetup {
  secret: string;
  uri: string;
  /** The otpauth URI as an SVG QR code, rendered on the server. */
  qrSvg: string;
}

/** Which second factor a code proved. */
export type SecondFactor = 'otp' | 'recovery';

/**
 * TOTP (RFC 6238) with otplib: the secret is encrypted at rest with the SecretBox (aad `totp:<sub>`);
 * a code is accepted for the current step ±1 (RFC 6238 §5.2), and only for a step later than the last
 * accepted one, written by one conditional UPDATE — a code used once is refused again on every instance.
 */
export class TotpFactors {
  constructor(
    private readonly store: MfaStore,
    private readonly box: SecretBox,
    private readonly issuerName: string,
    private readonly now: () => number,
  ) {}

  /** True when the user has a confirmed TOTP factor. */
  async enrolled(sub: string): Promise<boolean> {
    return (await this.store.getTotp(sub))?.confirmedAt !== undefined;
  }

  /** A new unconfirmed secret (replacing an earlier unconfirmed one); undefined when already enrolled. */
  async begin(sub: string, label: string): Promise<TotpSetup | undefined> {
    const secret = generateSecret();
    if (!(await this.store.beginTotp(sub, this.box.encrypt(secret, `totp:${sub}`), this.now()))) return undefined;
    return this.#setup(secret, label);
  }

  /** The unconfirmed enrolment in progress, to show again after a wrong first code. */
  async pending(sub: string, label: string): Promise<TotpSetup | undefined> {
    const f = await this.store.getTotp(sub);
    if (!f || f.confirmedAt !== undefined) return undefined;
    return this.#setup(this.box.decrypt(f.secretEnc, `totp:${sub}`), label);
  }

  /** Confirms the pending enrolment with a first code; returns the recovery codes (shown once), or undefined. */
  async confirm(sub: string, code: string): Promise<string[] | undefined> {
    const f = await this.store.getTotp(sub);
    if (!f || f.confirmedAt !== undefined) return undefined;
    const step = await this.#step(this.box.decrypt(f.secretEnc, `totp:${sub}`), code, undefined);
    if (step === undefined) return undefined;
    const codes = newRecoveryCodes();
    const hashes = codes.map((c) => recoveryCodeHash(this.box, sub, normalizeRecoveryCode(c)!));
    return (await this.store.confirmTotp(sub, step, this.now(), hashes)) ? codes : undefined;
  }

  /** Checks a TOTP code or a recovery code of an enrolled user; each is accepted once. */
  async verify(sub: string, input: string): Promise<SecondFactor | undefined> {
    const f = await this.store.getTotp(sub);
    if (!f || f.confirmedAt === undefined) return undefined;
    const code = input.replace(/\s/g, '');
    if (/^\d{6}$/.test(code)) {
      const step = await this.#step(this.box.decrypt(f.secretEnc, `totp:${sub}`), code, f.lastStep);
      return step !== undefined && (await this.store.useStep(sub, step)) ? 'otp' : undefined;
    }
    const recovery = normalizeRecoveryCode(input);
    if (recovery === undefined) return undefined;
    return (await this.store.useRecoveryCode(sub, recoveryCodeHash(this.box, sub, recovery), this.now())) ? 'recovery' : undefined;
  }

  unusedRecoveryCodes(sub: string): Promise<number> {
    return this.store.unusedRecoveryCodes(sub);
  }

  /** `tessera users mfa reset`: removes the factor and the recovery codes. */
  reset(sub: string): Promise<boolean> {
    return this.store.reset(sub);
  }

  /** The time step a 6-digit code belongs to (now ±1 step, after `after`), or undefined. */
  async #step(secret: string, code: string, after: number | undefined): Promise<number | undefined> {
    if (!/^\d{6}$/.test(code.replace(/\s/g, ''))) return undefined;
    const r = await verify({
      secret,
      token: code.replace(/\s/g, ''),
      epoch: this.now(),
      period: PERIOD,
      epochTolerance: PERIOD,
      ...(after !== undefined ? { afterTimeStep: after } : {}),
    });
    return r.valid && 'timeStep' in r ? r.timeStep : undefined;
  }

  async #setup(secret: string, label: string): Promise<TotpSetup> {
    const uri = generateURI({ issuer: this.issuerName, label, secret, period: PERIOD });
    const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, uri, qrSvg };
  }
}
