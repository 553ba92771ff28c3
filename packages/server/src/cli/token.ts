import type { Command } from 'commander';
import { compactVerify, decodeJwt, decodeProtectedHeader, errors, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { withContext } from './context.js';
import { fail, readStdin } from './util.js';

/** Claims that hold NumericDate values (RFC 7519 §2), shown in human form. */
const TIME_CLAIMS = ['iat', 'nbf', 'exp', 'auth_time', 'updated_at'];

/** "in 14 minutes" / "3 hours ago". */
export function relative(epoch: number, now: number): string {
  const d = Math.abs(epoch - now);
  const [n, unit] = d < 90 ? [d, 'second'] : d < 90 * 60 ? [Math.round(d / 60), 'minute'] : d < 48 * 3600 ? [Math.round(d / 3600), 'hour'] : [Math.round(d / 86400), 'day'];
  const text = `${n} ${unit}${n === 1 ? '' : 's'}`;
  return epoch >= now ? `in ${text}` : `${text} ago`;
}

interface Decoded {
  header: ProtectedHeaderParameters;
  claims: JWTPayload;
}

function decode(token: string): Decoded {
  const parts = token.split('.');
  if (parts.length === 5) fail(['this is an encrypted JWT (JWE); only signed tokens (JWS) can be decoded']);
  if (parts.length !== 3) fail(['not a JWT: expected three base64url parts separated by dots']);
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch (e) {
    fail([`not a JWT: ${e instanceof Error ? e.message : String(e)}`]);
  }
}

/** One line per check; `ok` false when the token would not be accepted by this server. */
interface Check {
  name: string;
  ok: boolean;
  text: string;
}

function timeChecks(claims: JWTPayload, now: number): Check[] {
  const out: Check[] = [];
  if (typeof claims.exp === 'number') {
    out.push({ name: 'expiry', ok: claims.exp > now, text: claims.exp > now ? `valid, expires ${relative(claims.exp, now)}` : `EXPIRED ${relative(claims.exp, now)}` });
  } else {
    out.push({ name: 'expiry', ok: false, text: 'no exp claim' });
  }
  if (typeof claims.nbf === 'number' && claims.nbf > now) out.push({ name: 'not before', ok: false, text: `not valid yet (${relative(claims.nbf, now)})` });
  return out;
}

export function tokenCommands(program: Command, configFile: () => string | undefined): void {
  const token = program.command('token').description('inspect tokens');

  token
    .command('decode [jwt]')
    .description('show a JWT\'s header, claims and times, and whether this server\'s keys verify it (reads stdin without an argument or with -)')
    .option('--no-verify', 'only decode: do not open the database to check the signature, issuer and denylist')
    .addHelpText('after', '\nExit status: 0 signed by this server and currently valid (or decoded, with --no-verify), 1 not, 2 not a JWT.')
    .action(async (arg: string | undefined, o: { verify: boolean }) => {
      const raw = arg === undefined || arg === '-' ? await readStdin() : arg;
      const jwt = raw.trim().replace(/^Bearer\s+/i, '');
      const { header, claims } = decode(jwt);
      const now = Math.floor(Date.now() / 1000);
      console.log(`header:\n${JSON.stringify(header, null, 2)}\nclaims:\n${JSON.stringify(claims, null, 2)}`);
      const times = TIME_CLAIMS.filter((c) => typeof claims[c] === 'number');
      if (times.length) {
        console.log('times:');
        for (const c of times) {
          const t = claims[c] as number;
          console.log(`  ${c.padEnd(10)} ${Number.isFinite(t) && Math.abs(t) < 1e11 ? `${new Date(t * 1000).toISOString()}  (${relative(t, now)})` : String(t)}`);
        }
      }
      const checks = timeChecks(claims, now);
      if (o.verify) {
        await withContext(configFile(), async (ctx) => {
          await ctx.keyring.reload();
          const kid = typeof header.kid === 'string' ? header.kid : undefined;
          const key = ctx.keyring.list().find((k) => k.kid === kid);
          const algorithms = [...new Set(ctx.keyring.list().map((k) => k.alg))];
          try {
            if (!algorithms.length) throw new Error('this database holds no published signing keys');
            if (!algorithms.includes(String(header.alg))) throw new Error(`alg ${String(header.alg)} is not one this server signs with (${algorithms.join(', ')})`);
            await compactVerify(jwt, ctx.keyring.verificationKeys(), { algorithms });
            checks.unshift({ name: 'signature', ok: true, text: `verified with this server's key ${kid} (${key?.state ?? 'published'})` });
          } catch (e) {
            const why = e instanceof errors.JWKSNoMatchingKey
              ? `no published key of this server has kid ${kid ?? '(none)'} and alg ${header.alg ?? '(none)'}`
              : e instanceof errors.JWSSignatureVerificationFailed
                ? `signature does not match key ${kid}`
                : e instanceof Error ? e.message : String(e);
            checks.unshift({ name: 'signature', ok: false, text: `NOT verified: ${why}` });
          }
          const iss = ctx.config.issuer;
          checks.splice(1, 0, claims.iss === iss
            ? { name: 'issuer', ok: true, text: `this server (${iss})` }
            : { name: 'issuer', ok: false, text: `${claims.iss === undefined ? 'no iss claim' : `${JSON.stringify(claims.iss)}`}, not this server (${iss})` });
          if (typeof claims.jti === 'string') {
            const denied = await ctx.stores.revocations.isDenied(claims.jti);
            checks.push({ name: 'revoked', ok: !denied, text: denied ? 'YES: the jti is on the denylist' : 'no' });
          }
        });
      }
      console.log(`checks:${o.verify ? '' : ' (signature not checked: --no-verify)'}`);
      for (const c of checks) console.log(`  ${c.name.padEnd(10)} ${c.text}`);
      if (o.verify && checks.some((c) => !c.ok)) process.exitCode = 1;
    });
}
