import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { serve } from '@hono/node-server';
import { createDevApp } from '../../../dev/app.js';
import { DiskAttachmentStore } from '../../../dev/disk-attachments.js';
import { devTransport } from '../../../dev/transport.js';
import { authConfigFromEnv, createTokenVerifier } from '../../../shared/auth/index.js';
import type { Database } from '../../../shared/db/connect.js';
import type { AssistantMessageItem } from '../../../shared/protocol/index.js';
import { EchoResponder } from '../../../shared/responder/echo-responder.js';
import type { Responder } from '../../../shared/responder/responder.js';
import { ChatKitServer, type ActionHandler } from '../../../shared/server/index.js';
import { PostgresStore } from '../../../shared/store/postgres-store.js';
import { createMigratedDatabase } from '../../support/backends.js';
import { uid } from '../../support/fixtures.js';
import { FUZZ_MESSAGE_MAX_CHARS } from './text.js';
import { FUZZ_JWT_SECRET } from './tokens.js';

/** Keeps the errors the app logs (the cause behind a 500), prints nothing. */
class RecordingLogger extends Logger {
  readonly errors: string[] = [];
  override createChild(): Logger {
    return this;
  }
  override error(...[message, ...extra]: Parameters<Logger['error']>): void {
    this.errors.push(`${String(message)} ${extra.map((e) => describe(e)).join(' ')}`);
  }
}

function describe(value: unknown): string {
  const error = (value as { error?: unknown })?.error ?? value;
  return error instanceof Error ? `${error.name}: ${error.message}${'code' in error ? ` (${String(error.code)})` : ''}` : String(error);
}

// Actions that carry the client's text into the store, so hostile input reaches it there too.
const actions: ActionHandler = {
  async *action(thread, action) {
    const item: AssistantMessageItem = {
      id: uid('msg'),
      thread_id: thread.id,
      created_at: new Date().toISOString(),
      type: 'assistant_message',
      content: [{ type: 'output_text', text: `${action.type} ${JSON.stringify(action.payload) ?? ''}`, annotations: [] }],
    };
    yield { type: 'thread.item.done', item };
  },
  async syncAction(_thread, action, sender) {
    return sender?.type === 'widget' ? { updated_item: { ...sender, copy_text: action.type } } : {};
  },
};

export interface FuzzApp {
  url: string;
  database: Database;
  store: PostgresStore;
  /** Where the dev attachment store keeps its files. */
  filesDir: string;
  /** What the app logged as errors since the last take. */
  takeErrors(): string[];
  /** Resolves when the work requests left running (a stream's persistence) is over. */
  settled(): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * The dev server's app (dev/app.ts, dev/transport.ts) over real HTTP on a fresh database of the
 * real server, answering with the offline echo responder, with dev's disk attachment store; plus
 * actions (which dev leaves out) so that those requests reach the store as well.
 */
export async function startFuzzApp(options: { responder?: Responder } = {}): Promise<FuzzApp> {
  const { testDb, database } = await createMigratedDatabase();
  const store = new PostgresStore(database.db);
  const logger = new RecordingLogger({ serviceName: 'chatkit-fuzz', logLevel: 'ERROR' });
  let url = '';
  const filesDir = mkdtempSync(join(tmpdir(), 'fuzz-files-'));
  const files = new DiskAttachmentStore(filesDir, 'fuzz-secret', () => url, store);
  const chatkit = new ChatKitServer({
    store,
    responder: options.responder ?? new EchoResponder(),
    actions,
    attachments: files,
    messageMaxChars: FUZZ_MESSAGE_MAX_CHARS,
    onError: (message, error) => logger.error(message, { error }),
  });
  const { transport, settled } = devTransport(createTokenVerifier(authConfigFromEnv({ JWT_SECRET: FUZZ_JWT_SECRET })));
  const app = createDevApp({ api: { transport, logger, corsOrigins: ['*'] }, store, chatkit, files });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    database,
    store,
    filesDir,
    takeErrors: () => logger.errors.splice(0),
    settled,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await settled();
      await database.close();
      await testDb.drop();
      rmSync(filesDir, { recursive: true, force: true });
    },
  };
}
