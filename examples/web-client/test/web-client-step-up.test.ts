import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { generate } from 'otplib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startStack, type Stack } from './stack.ts';

/**
 * Issue 15 §4 in chromium: the orders API demands acr urn:tessera:acr:mfa for DELETE; the demo client
 * follows the RFC 9470 challenge, re-authorizes with acr_values, the admin sets up TOTP on Tessera's
 * page (the code computed here from the shown key), and the same delete then succeeds.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ACR_MFA = 'urn:tessera:acr:mfa';
let stack: Stack;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM}`);
  stack = await startStack({ deleteAcr: ACR_MFA });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run'] });
});
after(async () => {
  await browser?.close();
  await stack?.close();
});

async function press(page: Page, name: string): Promise<void> {
  const back = page.waitForResponse((r) => r.url() === `${stack.web}/` && r.request().method() === 'GET');
  await page.getByRole('button', { name, exact: true }).click();
  await back;
  await page.waitForLoadState('domcontentloaded');
}

async function firstExchange(page: Page): Promise<{ status: number; challenge: string }> {
  const x = page.locator('#result .exchange').first();
  return { status: Number(await x.locator('.status').getAttribute('data-status')), challenge: (await x.locator('.www-authenticate').textContent()) ?? '' };
}

describe('demo web client: step-up for DELETE (RFC 9470)', () => {
  test('a password-only admin token gets insufficient_user_authentication; after TOTP set-up the delete succeeds', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    // Console errors of our pages; a browser's own favicon probe is not one.
    page.on('console', (m) => m.type() === 'error' && !/favicon/.test(m.location().url) && errors.push(`${m.location().url}: ${m.text()}`));
    try {
      await page.goto(`${stack.web}/`);
      await page.getByRole('button', { name: 'Sign in with Tessera', exact: true }).click();
      await page.waitForURL((u) => u.href.startsWith(`${stack.tessera.url}/login?`));
      await page.getByLabel('Username or e-mail').fill('admin');
      await page.getByLabel('Password').fill('admin-password-1');
      await page.getByLabel('Password').press('Enter');
      await page.waitForURL((u) => u.href.startsWith(`${stack.tessera.url}/consent?`));
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL(`${stack.web}/#result`);
      const first = JSON.parse((await page.locator('#access-claims').textContent())!) as { acr: string; amr: string[] };
      assert.equal(first.acr, 'urn:tessera:acr:pwd');
      await press(page, 'List orders');

      // Delete: the API's challenge sends the browser back to Tessera with acr_values.
      await page.getByRole('button', { name: 'Delete order', exact: true }).click();
      await page.waitForURL((u) => u.href.startsWith(`${stack.tessera.url}/mfa/totp/setup?`));
      assert.match(await page.locator('h1').textContent() ?? '', /authenticator app/);
      assert.equal(await page.locator('figure.qr svg').count(), 1, 'the QR code is inline SVG');
      const secret = (await page.locator('#secret').textContent())!.trim();
      await page.getByLabel('Code from the app').fill(await generate({ secret, epoch: Math.floor(Date.now() / 1000) }));
      await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
      await page.waitForURL((u) => u.pathname === '/mfa/totp/setup');
      assert.equal(await page.locator('.recovery-codes li').count(), 10);
      await page.getByRole('link', { name: 'Continue to the application' }).click();
      await page.waitForURL(`${stack.web}/#result`);
      const stepped = JSON.parse((await page.locator('#access-claims').textContent())!) as { acr: string; amr: string[]; sub: string };
      assert.equal(stepped.acr, ACR_MFA);
      assert.deepEqual(stepped.amr, ['pwd', 'otp', 'mfa']);
      assert.match(await page.content(), /step-up \(RFC 9470\): the API asked for acr_values=urn:tessera:acr:mfa/, 'the timeline shows the challenge being followed');

      await press(page, 'Delete order');
      assert.equal((await firstExchange(page)).status, 204);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
