export { AuthError, type AuthErrorCode } from './auth-error.js';
export { algorithmsForKey, authConfigFromEnv, type AuthConfig, type KeySource, type PublicKeyAlgorithm } from './config.js';
export { bearerToken, createTokenVerifier, type TokenVerifier } from './verifier.js';
