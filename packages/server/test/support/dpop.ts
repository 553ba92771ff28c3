// DPoP client keys and proofs (RFC 9449 §4) for the server tests: the toolkit tests' helpers, one copy.
export * from '../../../resource-server/test/helpers/dpop.ts';
