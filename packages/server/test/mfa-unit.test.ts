import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACR_MFA, ACR_PWD, acrOf, amrOf, mfaRequired } from '../src/engine/mfa/policy.ts';
import { newRecoveryCodes, normalizeRecoveryCode } from '../src/engine/mfa/recovery-codes.ts';
import { SecondStepTickets } from '../src/engine/mfa/ticket.ts';
import { SecretBox } from '../src/engine/keys/secret-box.ts';
import { decide } from '../src/engine/authorize/decide.ts';
import type { AuthorizationRequest } from '../src/engine/authorize/request.ts';
import type { Client, Session } from '../src/storage/stores.ts';

/** Issue 15: the pure parts of the MFA policy, recovery codes, second-step tickets and decide(). */
describe('policy', () => {
  test('amr defaults to pwd; acr follows mfa', () => {
    assert.deepEqual(amrOf({}), ['pwd']);
    assert.equal(acrOf(['pwd']), ACR_PWD);
    assert.equal(acrOf(['pwd', 'otp', 'mfa']), ACR_MFA);
  });
  test('required by the user, the client, or acr_values naming the mfa class', () => {
    assert.equal(mfaRequired(undefined, {}, undefined), false);
    assert.equal(mfaRequired({ mfaRequired: true }, {}, []), true);
    assert.equal(mfaRequired({}, { requireMfa: true }, []), true);
    assert.equal(mfaRequired({}, {}, [ACR_PWD]), false);
    assert.equal(mfaRequired({}, {}, ['urn:other', ACR_MFA]), true);
  });
});

describe('recovery codes', () => {
  test('ten distinct codes of 10 symbols; typed forms normalise; others are rejected', () => {
    const codes = newRecoveryCodes();
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, /^[a-z2-9]{5}-[a-z2-9]{5}$/);
    assert.equal(normalizeRecoveryCode('ABCDE FGHJK'), 'abcdefghjk');
    assert.equal(normalizeRecoveryCode('abcde-fghj'), undefined, 'too short');
    assert.equal(normalizeRecoveryCode('abcde-fghj1'), undefined, 'look-alike digit 1 is not in the alphabet');
    assert.equal(normalizeRecoveryCode('123456'), undefined);
  });
});

describe('second-step tickets', () => {
  const box = new SecretBox('t'.repeat(32));
  let clock = 1_000_000;
  const tickets = new SecondStepTickets(box, () => clock);
  const sub = 'usr_abcdefghijklmnopqrstuv';
  test('bound to the user, the browser and the interaction; expire after five minutes', () => {
    const t = tickets.issue(sub, 'browser-1', 'iid-1');
    assert.equal(tickets.verify(t, 'browser-1', 'iid-1'), sub);
    assert.equal(tickets.verify(t, 'browser-2', 'iid-1'), undefined, 'another browser');
    assert.equal(tickets.verify(t, 'browser-1', 'iid-2'), undefined, 'another interaction');
    assert.equal(tickets.verify(t.replace(sub, 'usr_zzzzzzzzzzzzzzzzzzzzzz'), 'browser-1', 'iid-1'), undefined, 'another user');
    assert.equal(tickets.verify(undefined, 'browser-1', 'iid-1'), undefined);
    clock += 300;
    assert.equal(tickets.verify(t, 'browser-1', 'iid-1'), undefined, 'expired');
  });
});

describe('decide() with a second factor', () => {
  const request = { prompt: [], maxAge: undefined, scopes: ['openid'] } as unknown as AuthorizationRequest;
  const client = { firstParty: true } as Client;
  const session = (amr: string[]): Session => ({ idHash: 'h', sid: 's', sub: 'usr_x', authTime: 100, amr, createdAt: 100, lastSeenAt: 100, expiresAt: 10_000 });
  test('no policy and no factor: a password session issues', () => {
    assert.equal(decide(request, client, session(['pwd']), undefined, [], 200).next, 'issue');
  });
  test('a factor the session did not use: sign in again; required but none: enrol; an mfa session issues', () => {
    assert.equal(decide(request, client, session(['pwd']), undefined, [], 200, { required: false, enrolled: true }).next, 'login');
    assert.equal(decide(request, client, session(['pwd']), undefined, [], 200, { required: true, enrolled: false }).next, 'enrol');
    assert.equal(decide(request, client, session(['pwd', 'otp', 'mfa']), undefined, [], 200, { required: true, enrolled: true }).next, 'issue');
  });
  test('prompt=none never shows the step: login_required', () => {
    const none = { ...request, prompt: ['none'] } as AuthorizationRequest;
    assert.throws(() => decide(none, client, session(['pwd']), undefined, [], 200, { required: true, enrolled: false }), { error: 'login_required' });
  });
});
