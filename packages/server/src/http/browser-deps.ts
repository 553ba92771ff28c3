import type { AuthorizationFlow } from '../engine/authorize/flow.js';
import type { Csrf } from '../engine/sessions/csrf.js';
import type { SessionManager } from '../engine/sessions/session-manager.js';
import type { LoginThrottle } from '../engine/login/throttle.js';
import type { Cookies } from './cookies.js';
import type { DeviceFlow } from '../engine/device/index.js';
import type { SecondFactorThrottle, SecondStepTickets, TotpFactors } from '../engine/mfa/index.js';

/** What the browser-facing routes (authorize, login, consent, logout) share; wired in server.ts. */
export interface BrowserDeps {
  flow: AuthorizationFlow;
  sessions: SessionManager;
  csrf: Csrf;
  throttle: LoginThrottle;
  cookies: Cookies;
  /** RFC 8628: the /device page and /device_authorization. */
  device: DeviceFlow;
  /** Second factors (issue 15): TOTP, their throttle, the password→code tickets. */
  mfa: { totp: TotpFactors; throttle: SecondFactorThrottle; tickets: SecondStepTickets };
}
