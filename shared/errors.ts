/**
 * Errors a client may see. Each carries the HTTP status a transport answers with and a stable
 * machine-readable code; the message is safe to show (never internals).
 */
export class ClientError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 501,
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

/** Missing, or belonging to another user: the two are indistinguishable on purpose. */
export class NotFoundError extends ClientError {
  constructor(what: string) {
    super(404, 'not_found', `${what} not found`);
  }
}

export class ConflictError extends ClientError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

/** A capability the deployment has not configured (attachments, transcription). */
export class NotEnabledError extends ClientError {
  constructor(feature: string) {
    super(501, 'not_enabled', `${feature} is not enabled on this server`);
  }
}
