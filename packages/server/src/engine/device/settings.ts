import type { Config, RawConfig } from '../../config/schema.js';

/** Durations as load.ts parses them ('15m' → 900); passed in to avoid an import cycle. */
type Seconds = (v: number | string) => number;

export interface DeviceSettings {
  /** `expires_in` of device and user codes, seconds. */
  codeTtl: number;
  /** The minimum polling interval handed out, seconds. */
  interval: number;
  maxFailuresPerUser: number;
  maxFailuresPerIp: number;
  window: number;
}

const MIN_TTL = 60;
const MAX_TTL = 1800;

/** `device` in the config with its defaults (RFC 8628 §3.2: 10 minutes, poll every 5 s). */
export function deviceSettings(config: Pick<Config, 'device'>, seconds: Seconds): DeviceSettings {
  const d = config.device ?? {};
  return {
    codeTtl: seconds(d.codeTtl ?? '10m'),
    interval: d.interval ?? 5,
    maxFailuresPerUser: d.maxFailuresPerUser ?? 10,
    maxFailuresPerIp: d.maxFailuresPerIp ?? 50,
    window: seconds(d.window ?? '15m'),
  };
}

/**
 * RFC 8628 §5.1/§6.1: the user code's ~34.6 bits are enough only with a short lifetime and throttled
 * guessing, so the lifetime is capped at 30 minutes.
 */
export function deviceProblems(cfg: RawConfig, seconds: Seconds): string[] {
  const ttl = cfg.device?.codeTtl;
  if (ttl === undefined) return [];
  const s = seconds(ttl);
  return s < MIN_TTL || s > MAX_TTL ? ['device.codeTtl: between 1 and 30 minutes'] : [];
}
