interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
}

/** Logged request URLs keep the path and parameter names only: values may be credentials. */
export function redactUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = url
    .slice(q + 1)
    .split('&')
    .map((p) => p.split('=')[0]!.slice(0, 40))
    .filter(Boolean);
  return `${url.slice(0, q)}?${names.map((n) => `${n}=…`).join('&')}`;
}

/**
 * pino options: structured JSON logs, credentials redacted wherever they could appear
 * (J1/J5: tokens, secrets and passwords never reach a log).
 */
export function loggerOptions(level: string): Record<string, unknown> {
  return {
    level,
    serializers: {
      req: (req: LoggedRequest) => ({ method: req.method, url: redactUrl(req.url), ip: req.ip }),
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'headers.authorization',
        '*.client_secret',
        '*.password',
        '*.code',
        '*.refresh_token',
        '*.access_token',
        '*.token',
      ],
      censor: '[redacted]',
    },
  };
}
