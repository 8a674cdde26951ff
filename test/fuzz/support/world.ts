import { sql } from 'kysely';
import type { Database } from '../../../shared/db/connect.js';
import type { ThreadItem } from '../../../shared/protocol/index.js';
import type { PostgresStore } from '../../../shared/store/postgres-store.js';
import { fileAttachment, thread, uid, userMessage } from '../../support/fixtures.js';
import type { RefName } from './refs.js';

export interface World {
  /** The caller: the user whose data a refused request must leave alone. */
  owner: string;
  /** Another user, who never calls: nothing anyone does may change their data. */
  other: string;
  ids: Record<RefName, string>;
}

const at = () => new Date().toISOString();

/** The owner's thread holds one item of each kind a request can name; the pending tool call is the latest. */
export async function seedOwner(store: PostgresStore, other: OtherUser): Promise<World> {
  const ctx = { userId: uid('owner') };
  const t = thread({ title: 'seeded' });
  const user = userMessage(t.id, 'hello');
  const base = () => ({ thread_id: t.id, created_at: at() });
  const items: ThreadItem[] = [
    { ...base(), id: uid('msg'), type: 'assistant_message', content: [{ type: 'output_text', text: 'hi', annotations: [] }] },
    { ...base(), id: uid('wd'), type: 'widget', widget: { type: 'Card', children: [] }, copy_text: 'card' },
    {
      ...base(),
      id: uid('si'),
      type: 'structured_input',
      status: 'pending',
      inputs: [
        { id: 'q1', type: 'multiple_choice', question: 'Pick', options: [{ value: 'a' }, { value: 'b' }] },
        { id: 'q2', type: 'freeform', question: 'Why?' },
      ],
    },
    { ...base(), id: uid('tc'), type: 'client_tool_call', status: 'pending', call_id: 'call_1', name: 'locate', arguments: {} },
  ];
  const attachment = fileAttachment();
  await store.createThread(t, user, ctx);
  for (const item of items) await store.addThreadItem(t.id, item, ctx);
  await store.saveAttachment(attachment, ctx);
  const [assistant, widget, input, tool] = items.map((i) => i.id);
  return {
    owner: ctx.userId,
    other: other.other,
    ids: {
      ...other.ids,
      thread: t.id,
      user_item: user.id,
      assistant_item: assistant!,
      widget_item: widget!,
      input_item: input!,
      tool_item: tool!,
      attachment: attachment.id,
    },
  };
}

export interface OtherUser {
  other: string;
  ids: Pick<World['ids'], 'other_thread' | 'other_item' | 'other_attachment' | 'other_widget'>;
}

/** Another user's thread, message, attachment and a turn paused for their approval: what cross-user references name. */
export async function seedOther(store: PostgresStore): Promise<OtherUser> {
  const ctx = { userId: uid('other') };
  const t = thread({ title: 'not yours' });
  const message = userMessage(t.id, 'private');
  const attachment = fileAttachment();
  const lease = { id: uid('turn'), seconds: 60 };
  await store.createThread(t, message, ctx, lease);
  const prompt: ThreadItem = { id: uid('wd'), thread_id: t.id, created_at: at(), type: 'widget', widget: { type: 'Card', children: [] } };
  await store.endTurn(t.id, lease.id, ctx, { lastItem: prompt, pause: { itemId: prompt.id, pending: ['call_1'], state: '{}', seconds: 3600 } });
  await store.saveAttachment(attachment, ctx);
  return { other: ctx.userId, ids: { other_thread: t.id, other_item: message.id, other_attachment: attachment.id, other_widget: prompt.id } };
}

export interface Snapshot {
  owner: string;
  other: string;
  /** Rows per table, everyone's: a refused request adds or removes none anywhere. */
  counts: string;
}

/** Every row of the two users (threads, items, feedback, attachments, paused turns) and every table's size, in one statement. */
export async function snapshot(database: Database, world: World): Promise<Snapshot> {
  const users = [world.owner, world.other];
  const { rows } = await sql<{ owner: string | null; row: string }>`
    SELECT owner, row FROM (
      SELECT user_id AS owner, to_jsonb(t)::text AS row FROM chatkit_threads t WHERE user_id = ANY(${users})
      UNION ALL
      SELECT t.user_id, to_jsonb(i)::text FROM chatkit_thread_items i JOIN chatkit_threads t ON t.id = i.thread_id WHERE t.user_id = ANY(${users})
      UNION ALL
      SELECT user_id, to_jsonb(f)::text FROM chatkit_item_feedback f WHERE user_id = ANY(${users})
      UNION ALL
      SELECT user_id, to_jsonb(a)::text FROM chatkit_attachments a WHERE user_id = ANY(${users})
      UNION ALL
      SELECT t.user_id, to_jsonb(p)::text FROM chatkit_paused_turns p JOIN chatkit_threads t ON t.id = p.thread_id WHERE t.user_id = ANY(${users})
      UNION ALL
      SELECT NULL, concat_ws(',', (SELECT count(*) FROM chatkit_threads), (SELECT count(*) FROM chatkit_thread_items),
                               (SELECT count(*) FROM chatkit_item_feedback), (SELECT count(*) FROM chatkit_attachments),
                               (SELECT count(*) FROM chatkit_paused_turns))
    ) s ORDER BY owner, row`.execute(database.db);
  const of = (user: string | null) => rows.filter((r) => r.owner === user).map((r) => r.row).join('\n');
  return { owner: of(world.owner), other: of(world.other), counts: of(null) };
}
