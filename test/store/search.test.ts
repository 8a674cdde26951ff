import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { openDatabase, type Database } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { itemPlainText, type ThreadItem } from '../../shared/protocol/index.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { MAX_RANKED_MESSAGES, SEARCH_LOCK_SPACE, SEARCHABLE_CHARACTERS, SEARCHES_PER_USER, SNIPPET_WINDOW } from '../../shared/store/search.js';
import type { RequestContext } from '../../shared/store/store.js';
import pg from 'pg';
import { createTestDatabase, storeBackends } from '../support/backends.js';
import { thread, uid, userMessage } from '../support/fixtures.js';

// Full-text search over a user's threads (migrations/0003_search.ts), on every backend.
describe.each(storeBackends())('searchThreads on $name', (backend) => {
  let database: Database;
  let store: PostgresStore;
  let roundTrips = 0;

  beforeAll(async () => {
    database = await backend.open({ onQuery: () => void roundTrips++ });
    store = new PostgresStore(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  const user = (): RequestContext => ({ userId: uid('user') });
  const answer = (threadId: string, text: string): ThreadItem => ({
    id: uid('msg'),
    thread_id: threadId,
    created_at: new Date().toISOString(),
    type: 'assistant_message',
    content: [{ type: 'output_text', text, annotations: [] }],
  });
  /** A thread holding these items, in order; a string is a user message. */
  const threadWith = async (ctx: RequestContext, title: string, ...items: Array<string | ((threadId: string) => ThreadItem)>) => {
    const t = thread({ title });
    await store.createThread(t, null, ctx);
    for (const item of items) await store.addThreadItem(t.id, typeof item === 'string' ? userMessage(t.id, item) : item(t.id), ctx);
    return t.id;
  };

  it('ranks the thread that says it most first, one hit per thread with its best passage', async () => {
    const ctx = user();
    const once = await threadWith(ctx, 'Zoo trip', 'We saw a kangaroo at the zoo, then lunch, then the aquarium and the gift shop on the way home.');
    const often = await threadWith(
      ctx,
      'Marsupials',
      'Tell me about marsupials',
      (id) => answer(id, 'The kangaroo is the largest marsupial. A kangaroo hops; a young kangaroo lives in a pouch.'),
    );
    await threadWith(ctx, 'Unrelated', 'What is the capital of France?');

    const page = await store.searchThreads({ q: 'Kangaroo' }, ctx);
    expect(page.data.map((hit) => hit.id)).toEqual([often, once]);
    expect(page.has_more).toBe(false);
    const [best] = page.data;
    expect(best).toMatchObject({ title: 'Marsupials', snippet: expect.stringContaining('**kangaroo**') });
    expect(best!.rank).toBeGreaterThan(page.data[1]!.rank);
    const items = (await store.loadThreadItems(often, { order: 'asc' }, ctx)).data;
    expect(best!.item_id).toBe(items[1]!.id);
    expect(best!.matched_at).toBe(new Date(items[1]!.created_at).toISOString());
    expect(Date.parse(best!.updated_at)).toBeGreaterThanOrEqual(Date.parse(best!.created_at));
  });

  it("finds only the caller's threads, and leaves out the excluded one", async () => {
    const me = user();
    const someoneElse = user();
    const mine = await threadWith(me, 'Mine', 'my platypus notes');
    const current = await threadWith(me, 'Current', 'where did I write about the platypus?');
    await threadWith(someoneElse, 'Theirs', 'their platypus secrets');

    expect((await store.searchThreads({ q: 'platypus' }, me)).data.map((hit) => hit.id).sort()).toEqual([mine, current].sort());
    const others = await store.searchThreads({ q: 'platypus', excludeThreadId: current }, me);
    expect(others.data.map((hit) => [hit.id, hit.snippet])).toEqual([[mine, 'my **platypus** notes']]);
    expect(JSON.stringify(others)).not.toContain('secrets');
    expect((await store.searchThreads({ q: 'secrets' }, me)).data).toEqual([]);
  });

  it('reads what the user typed as words: tsquery and SQL syntax never fail or inject', async () => {
    const ctx = user();
    const id = await threadWith(ctx, 'Syntax', "the wombat's burrow & tunnel | maze: it's (deep)");
    await threadWith(ctx, 'Other', 'a thread about something else');
    const tries = ['wombat & !', 'wombat | :* ((', '"wombat', 'wombat\\', "wombat's", 'WOMBAT)', 'wombat\u0000', "wombat' OR '1'='1"];
    for (const q of tries) {
      expect((await store.searchThreads({ q }, ctx)).data.map((hit) => hit.id), q).toEqual([id]);
    }
    for (const q of ["'; DROP TABLE chatkit_threads; --", '<-> & | ! :* ( ) \' " \\']) {
      expect((await store.searchThreads({ q }, ctx)).data, q).toEqual([]);
    }
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM chatkit_threads`.execute(database.db)).rows[0]!.n).toBeGreaterThan(0);
    // Web-search syntax: a quoted phrase keeps its word order, -word excludes.
    expect((await store.searchThreads({ q: '"burrow tunnel"' }, ctx)).data).toHaveLength(1);
    expect((await store.searchThreads({ q: '"tunnel burrow"' }, ctx)).data).toHaveLength(0);
    expect((await store.searchThreads({ q: 'wombat -maze' }, ctx)).data).toHaveLength(0);
  });

  it('answers an empty page for words nobody wrote, blank queries and hidden context', async () => {
    const ctx = user();
    const id = await threadWith(ctx, 'Quiet', 'nothing to see');
    await store.addThreadItem(id, { id: uid('shcx'), thread_id: id, created_at: new Date().toISOString(), type: 'sdk_hidden_context', content: 'confidential okapi' }, ctx);
    for (const q of ['okapi', 'xylophonist', '', '   ', '!!!', '&']) {
      expect(await store.searchThreads({ q }, ctx), JSON.stringify(q)).toEqual({ data: [], has_more: false });
    }
  });

  it('pages by keyset in relevance order, with no hit twice, and refuses a cursor that is not a hit', async () => {
    const ctx = user();
    // Five threads, each saying "quokka" a different number of times, plus ties on rank.
    for (let n = 1; n <= 5; n++) await threadWith(ctx, `Q${n}`, `${'quokka '.repeat(n)}end`);
    await threadWith(ctx, 'Q2 again', 'quokka quokka end');
    const whole = await store.searchThreads({ q: 'quokka', limit: 100 }, ctx);
    expect(whole.data).toHaveLength(6);
    expect(whole.data.map((hit) => hit.rank)).toEqual([...whole.data.map((hit) => hit.rank)].sort((a, b) => b - a));

    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await store.searchThreads({ q: 'quokka', limit: 4, after }, ctx);
      seen.push(...page.data.map((hit) => hit.id));
      after = page.has_more ? page.after : undefined;
      pages++;
    } while (after);
    expect(pages).toBe(2);
    expect(seen).toEqual(whole.data.map((hit) => hit.id));

    const unrelated = await threadWith(ctx, 'Other', 'no marsupials');
    await expect(store.searchThreads({ q: 'quokka', after: unrelated }, ctx)).rejects.toMatchObject({ code: 'invalid_cursor' });
    await expect(store.searchThreads({ q: 'quokka', limit: 0 }, ctx)).rejects.toMatchObject({ code: 'invalid_limit' });
  });

  /** Distinct words (each its own lexeme), `length` characters in all. */
  const distinctWords = (length: number, prefix = 'w') => {
    const words: string[] = [];
    let size = 0;
    for (let n = 0; size < length; n++) {
      const word = `${prefix}${n.toString(36).padStart(11, '0')}`;
      words.push(word);
      size += word.length + 1;
    }
    return words.join(' ').slice(0, length);
  };

  it('stores a message of any length: the vector is built from its first SEARCHABLE_CHARACTERS characters', async () => {
    const ctx = user();
    // Over 1 MiB of distinct words: as a whole, more lexemes than a tsvector holds.
    const head = distinctWords(SEARCHABLE_CHARACTERS - 20, 'h');
    const text = `${head} okapiearly ${distinctWords(1_300_000, 't')} okapilate`;
    const id = await threadWith(ctx, 'Huge', (threadId) => answer(threadId, text));
    const stored = await store.loadThreadItems(id, { order: 'asc' }, ctx);
    expect(itemPlainText(stored.data[0]!)).toHaveLength(text.length);
    expect((await store.searchThreads({ q: 'okapiearly' }, ctx)).data.map((hit) => hit.id)).toEqual([id]);
    expect((await store.searchThreads({ q: 'okapilate' }, ctx)).data).toEqual([]);
  });

  it("puts an item's words into the search index as it is stored, so that no writer pays for another's (no pending list)", async () => {
    const { rows } = await sql<{ options: string[] | null }>`
      SELECT reloptions AS options FROM pg_class WHERE relname = 'chatkit_thread_items_content_tsv'`.execute(database.db);
    expect(rows[0]?.options).toContain('fastupdate=off');
  });

  it('cuts the snippet from a window around the first match, deep in a long message too', async () => {
    const ctx = user();
    const filler = (n: number) => distinctWords(n, 'f');
    // The match 90,000 characters in; another query word far past the window.
    const id = await threadWith(ctx, 'Deep', `${filler(90_000)} the lost tapir was found ${filler(SNIPPET_WINDOW * 3)} then a zebra`);
    const [hit] = (await store.searchThreads({ q: 'tapir or zebra' }, ctx)).data;
    expect(hit?.id).toBe(id);
    expect(hit!.snippet).toContain('**tapir**');
    // Read from the window only: the whole text would have given the zebra a fragment of its own.
    expect(hit!.snippet).not.toContain('zebra');
    expect(hit!.snippet.length).toBeLessThan(SNIPPET_WINDOW);
  });

  it('finds nothing for a query with no word to find (only excluded words), instead of reading every message', async () => {
    const ctx = user();
    await threadWith(ctx, 'One', 'apples and pears');
    await threadWith(ctx, 'Two', 'plums');
    for (const q of ['-zzzz', '-apples -plums', 'apples or -zzzz']) {
      expect(await store.searchThreads({ q }, ctx), q).toEqual({ data: [], has_more: false });
    }
    expect((await store.searchThreads({ q: 'apples -zzzz' }, ctx)).data).toHaveLength(1);
  });

  it(`ranks only the ${MAX_RANKED_MESSAGES.toLocaleString()} most recent matching messages`, async () => {
    const ctx = user();
    // Five old threads that say it most, then more recent ones that say it once: set-based, as
    // a thousand separate writes would take long on PGlite.
    const old = await Promise.all([1, 2, 3, 4, 5].map(() => threadWith(ctx, 'Old', 'capybara '.repeat(20))));
    await sql`
      WITH threads AS (
        INSERT INTO chatkit_threads (id, user_id, data, created_at)
        SELECT 'thr_cap_' || ${ctx.userId} || '_' || g, ${ctx.userId}, '{"status":{"type":"active"},"metadata":{}}'::jsonb, now()
        FROM generate_series(1, ${MAX_RANKED_MESSAGES}) g RETURNING id
      )
      INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
      SELECT 'msg_' || id, id, 'user_message', 'one capybara', '{}'::jsonb, now() FROM threads`.execute(database.db);
    const top = await store.searchThreads({ q: 'capybara', limit: 10 }, ctx);
    expect(top.data).toHaveLength(10);
    expect(top.data.filter((hit) => old.includes(hit.id))).toEqual([]);
  });

  // PGlite is one session, its statements one at a time: a search's slot is free again before the
  // next starts, so it never refuses one (and dev has one user at a time anyway).
  if (backend.name === 'pglite') {
    it('never refuses a search for want of slots on PGlite, one session whose statements run one at a time', async () => {
      const ctx = user();
      await threadWith(ctx, 'Many', 'a wallaby');
      const results = await Promise.all(Array.from({ length: SEARCHES_PER_USER * 3 }, () => store.searchThreads({ q: 'wallaby' }, ctx)));
      for (const page of results) expect(page.data).toHaveLength(1);
    });
  } else {
    it(
      `runs at most ${SEARCHES_PER_USER} searches of one user at once (a 429), and never holds up another user`,
      async () => {
        const busy = user();
        const other = user();
        await threadWith(busy, 'Busy', 'a wallaby');
        await threadWith(other, 'Other', 'a wallaby');
        // Every slot of `busy` held, as that many running searches hold them, from another session.
        const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(database.db);
        const holder = new pg.Client({ connectionString: Object.assign(new URL(inject('postgresUrl')), { pathname: `/${rows[0]!.name}` }).toString() });
        await holder.connect();
        try {
          for (let n = 1; n <= SEARCHES_PER_USER; n++) {
            await holder.query('SELECT pg_advisory_lock($1::int, hashtext($2))', [SEARCH_LOCK_SPACE, `${busy.userId}:${n}`]);
          }
          await expect(store.searchThreads({ q: 'wallaby' }, busy)).rejects.toMatchObject({ status: 429, code: 'too_many_searches' });
          expect((await store.searchThreads({ q: 'wallaby' }, other)).data).toHaveLength(1);
          await holder.query('SELECT pg_advisory_unlock($1::int, hashtext($2))', [SEARCH_LOCK_SPACE, `${busy.userId}:1`]);
          expect((await store.searchThreads({ q: 'wallaby' }, busy)).data).toHaveLength(1);
        } finally {
          await holder.end();
        }
        // A search releases its slot when it ends: many in a row all run.
        for (let i = 0; i < SEARCHES_PER_USER * 3; i++) expect((await store.searchThreads({ q: 'wallaby' }, other)).data).toHaveLength(1);
      },
    );
  }

  it('is one round trip', async () => {
    const ctx = user();
    const id = await threadWith(ctx, 'Count', 'numbat');
    for (const request of [{ q: 'numbat' }, { q: 'numbat', after: id }]) {
      const before = roundTrips;
      await store.searchThreads(request, ctx);
      expect(roundTrips - before).toBe(1);
    }
  });
});

describe('migration 0003_search on a database with conversations', () => {
  it('makes the rows already there searchable', async () => {
    const created = await createTestDatabase();
    const database = await openDatabase({ url: created.url });
    try {
      const { '0001_initial': initial } = migrations;
      await new Migrator({ db: database.db, provider: { getMigrations: async () => ({ '0001_initial': initial! }) } }).migrateToLatest();
      const store = new PostgresStore(database.db);
      const ctx = { userId: uid('user') };
      const t = thread({ title: 'Before search existed' });
      await sql`INSERT INTO chatkit_threads (id, user_id, data, created_at) VALUES (${t.id}, ${ctx.userId}, ${JSON.stringify(t)}::jsonb, now())`.execute(database.db);
      await sql`INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
                VALUES (${uid('msg')}, ${t.id}, 'user_message', 'an old axolotl question', '{}'::jsonb, now())`.execute(database.db);
      expect(await migrateToLatest(database.db)).toEqual({ applied: Object.keys(migrations).filter((name) => name !== '0001_initial') });
      expect((await store.searchThreads({ q: 'axolotl' }, ctx)).data.map((hit) => hit.id)).toEqual([t.id]);
    } finally {
      await database.close();
      await created.drop();
    }
  });
});
