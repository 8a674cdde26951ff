/**
 * Errors a client may see. Each carries the HTTP status a transport answers with and a stable
 * machine-readable code; the message is safe to show (never internals).
 */
export class ClientError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 501,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends ClientError {
  constructor(message: string, code = 'bad_request') {
    super(400, code, message);
  }
}

/** No identity, or one that did not verify. */
export class UnauthorizedError extends ClientError {
  constructor(message = 'A valid bearer token is required') {
    super(401, 'unauthorized', message);
  }
}

/** Missing, or belonging to another user: the two are indistinguishable on purpose. */
export class NotFoundError extends ClientError {
  constructor(what: string) {
    super(404, 'not_found', `${what} not found`);
  }
}

export class ConflictError extends ClientError {
  constructor(message: string, code = 'conflict') {
    super(409, code, message);
  }
}

/** Another turn is answering in this thread; the client may send again once it is done. */
export class ThreadBusyError extends ClientError {
  constructor(message = 'This thread is still answering a previous message; try again when it is done') {
    super(409, 'thread_busy', message);
  }
}

/** An answer to a paused turn (e.g. an approval) that does not wait for it: answered already, or never asked. */
export class PauseNotPendingError extends ClientError {
  constructor(message = 'This request is not waiting for an answer: it was answered already, or the conversation moved on') {
    super(409, 'not_pending', message);
  }
}

/** An answer to a paused turn whose wait ran out. */
export class PauseExpiredError extends ClientError {
  constructor(readonly expiredAt: string) {
    super(409, 'expired', `This request expired at ${expiredAt} and can no longer be answered; ask again`);
  }
}

/** The caller has as much running as one user may: a 429 with Retry-After; the next try usually succeeds. */
export class TooManyRequestsError extends ClientError {
  readonly retryAfterSeconds = 1;

  constructor(message: string, code = 'too_many_requests') {
    super(429, code, message);
  }
}

/** A capability the deployment has not configured (attachments, transcription). */
export class NotEnabledError extends ClientError {
  constructor(feature: string) {
    super(501, 'not_enabled', `${feature} is not enabled on this server`);
  }
}

/**
 * The reason a transport gives when the server itself stops a turn (the function nears its
 * timeout, the process shuts down) while the client is still listening: the client is told,
 * unlike when it went away itself.
 */
export class ServerStopping extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'ServerStopping';
  }
}

/**
 * The database could not answer: its connection was lost or it did not answer in time. Not the
 * client's fault and usually over in seconds, so a transport answers 503 with Retry-After.
 */
export class DatabaseUnavailableError extends Error {
  readonly status = 503;
  readonly code = 'database_unavailable';
  readonly retryAfterSeconds = 2;

  constructor(
    /** `connection`: lost or refused, the statement did not complete; `timeout`: no answer in time. */
    readonly reason: 'connection' | 'timeout',
    options?: { cause?: unknown },
  ) {
    super(
      reason === 'timeout' ? 'The database did not answer in time; try again shortly' : 'The database connection was lost; try again shortly',
      options,
    );
    this.name = new.target.name;
  }
}
