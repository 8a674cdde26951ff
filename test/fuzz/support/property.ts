import type { FuzzApp } from './app.js';
import { fault, send, type FuzzRequest, type Outcome } from './http.js';
import { resolveRefs } from './refs.js';
import { authorization, type Caller } from './tokens.js';
import { seedOther, seedOwner, snapshot, type OtherUser, type Snapshot, type World } from './world.js';

/** A fault the fuzzer finds whose fix belongs to code this suite may not change yet. */
export interface KnownFault {
  name: string;
  /** Whether the request (ids and token in place) would hit it: then it is not sent. */
  matches(request: FuzzRequest): boolean;
}

export interface Verdict {
  status: number;
  /** The known fault the request was held back for. */
  known?: string;
}

/**
 * Runs one generated request against a seeded world and checks the property: a 2xx, or a 4xx
 * with `{error:{code,message}}`; never a 5xx, never a hang; a refused request changes nothing
 * (the caller's rows, the other user's rows, any table's size); nobody but the owner, accepted,
 * changes the owner's rows; nothing changes the other user's rows. Throws what it found.
 */
export function createChecker(app: FuzzApp, known: readonly KnownFault[]) {
  let other: OtherUser | undefined;
  let world: World | undefined;
  let last: Snapshot | undefined;

  return async function check(generated: FuzzRequest, caller: Caller): Promise<Verdict> {
    other ??= await seedOther(app.store);
    world ??= await seedOwner(app.store, other);
    const before = last ?? (await snapshot(app.database, world));
    const request = resolve(generated, caller, world);
    const held = known.find((k) => k.matches(request));
    if (held) return { status: 0, known: held.name };

    const outcome = await send(app.url, request);
    const problems = [fault(outcome)].filter((p) => p !== null);
    await app.settled();
    const after = await snapshot(app.database, world);
    const logged = app.takeErrors();
    // An accepted stream cut off by the timeout is a client gone mid-answer: the partial turn is kept.
    const accepted = outcome.status >= 200 && outcome.status < 300;
    if (after.other !== before.other) problems.push("another user's data changed");
    if ((!accepted || caller.kind !== 'owner') && after.owner !== before.owner) problems.push("the caller's data changed");
    if (!accepted && after.counts !== before.counts) problems.push('a refused request added or removed rows');

    // A changed world is not reused: the next run seeds a fresh one.
    [world, last] = after.owner === before.owner ? [world, after] : [undefined, undefined];

    if (problems.length) throw new Error(report(request, outcome, problems, logged));
    return { status: outcome.status };
  };
}

function resolve(request: FuzzRequest, caller: Caller, world: World): FuzzRequest {
  const auth = authorization(caller, world.owner);
  return {
    ...request,
    target: resolveRefs(request.target, world.ids),
    headers: { ...request.headers, ...(auth === null ? {} : { authorization: auth }) },
    body: typeof request.body === 'string' ? resolveRefs(request.body, world.ids) : request.body,
  };
}

const excerpt = (text: string, length: number) => {
  const shown = JSON.stringify(text.length > length ? text.slice(0, length) : text);
  return text.length > length ? `${shown}… (${text.length} chars)` : shown;
};

function report(request: FuzzRequest, outcome: Outcome, problems: string[], logged: string[]): string {
  const body = typeof request.body === 'string' ? excerpt(request.body, 600) : request.body ? `<${request.body.length} bytes>` : '<none>';
  return [
    problems.join('; '),
    `  request: ${request.method} ${excerpt(request.target, 200)}`,
    `  headers: ${excerpt(JSON.stringify(request.headers), 300)}`,
    `  body: ${body}`,
    `  answer: ${outcome.status} ${outcome.contentType} ${excerpt(outcome.body, 400)}`,
    ...(logged.length ? [`  logged: ${excerpt(logged.join(' | '), 600)}`] : []),
  ].join('\n');
}
