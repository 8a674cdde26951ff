export { algorithmsForKey, authConfigFromEnv, type AuthConfig, type KeySource } from './config.js';
export { AuthError, bearerToken, createTokenVerifier, type AuthErrorCode, type TokenVerifier } from './verifier.js';
