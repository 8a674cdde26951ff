import { ServerStopping } from '../../shared/errors.js';

/** Why a streamed turn's AbortSignal fired: the client went away, or a timeout was near. */
export class ClientDisconnected extends Error {
  constructor() {
    super('client disconnected');
  }
}

/** The server stops the turn itself, the client still listening: it is told (a ServerStopping). */
export class TurnTimeoutNear extends ServerStopping {
  constructor() {
    super('timeout near');
  }
}
