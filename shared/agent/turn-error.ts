/**
 * A failure the user may read about: a tool throws it to end the turn with its message shown.
 * Any other error ends the turn with ChatKit's generic error, its details only in the logs.
 */
export class TurnError extends Error {
  readonly allowRetry: boolean;

  constructor(message: string, options: { allowRetry?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TurnError';
    this.allowRetry = options.allowRetry ?? false;
  }
}
