/** Why a streamed turn's AbortSignal fired: the client went away, or a timeout was near. */
export class ClientDisconnected extends Error {
  constructor() {
    super('client disconnected');
  }
}

export class TurnTimeoutNear extends Error {
  constructor() {
    super('timeout near');
  }
}
