export type AuthErrorCode = 'token_missing' | 'token_expired' | 'token_not_active' | 'token_invalid';

/** Why a token was refused; the message is safe to return to a client. */
export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}
