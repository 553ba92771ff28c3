import type { GrantHandler } from './types.js';

/** The grant types this server answers at /token. */
export class GrantRegistry {
  readonly #handlers = new Map<string, GrantHandler>();

  register(handler: GrantHandler): this {
    if (this.#handlers.has(handler.grantType)) throw new TypeError(`grant ${handler.grantType} is already registered`);
    this.#handlers.set(handler.grantType, handler);
    return this;
  }

  get(grantType: string): GrantHandler | undefined {
    return this.#handlers.get(grantType);
  }

  types(): string[] {
    return [...this.#handlers.keys()];
  }
}
