/**
 * pino options: structured JSON logs with credentials redacted wherever they could appear
 * (J1/J5: tokens, secrets and passwords never reach a log).
 */
export function loggerOptions(level: string): Record<string, unknown> {
  return {
    level,
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
