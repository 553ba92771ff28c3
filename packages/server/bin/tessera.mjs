#!/usr/bin/env node
// Development launcher (tests, work on the sources): runs the TypeScript sources through tsx and resolves
// the workspace packages to their sources too (the `@tessera/source` export condition). Not published:
// the package's `tessera` bin is the compiled `dist/cli/bin.js`.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
// Registered last, so it runs first and hands tsx the extra condition.
register(
  'data:text/javascript,' +
    encodeURIComponent('export function resolve(s, c, next) { return next(s, { ...c, conditions: [...c.conditions, "@tessera/source"] }); }'),
);
await import('../src/cli/main.ts');
