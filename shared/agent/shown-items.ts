import type { ThreadStreamEvent } from '../protocol/index.js';

/**
 * What a turn has shown the client, from the events it sent: items still unfinished (added,
 * not done) and items it stored (done). A failed turn takes back only the unfinished ones —
 * the user already read the rest, and it is stored; a guardrail's tripwire takes back everything
 * the turn showed, what tools streamed included. Items of earlier turns (a workflow this turn
 * continued and replaced) are never this turn's to take back.
 */
export class ShownItems {
  private readonly unfinished = new Set<string>();
  private readonly stored = new Set<string>();

  /** Records what the events show; returns them unchanged. */
  observe(events: ThreadStreamEvent[]): ThreadStreamEvent[] {
    for (const event of events) {
      if (event.type === 'thread.item.added') this.unfinished.add(event.item.id);
      else if (event.type === 'thread.item.done') this.markStored(event.item.id);
      else if (event.type === 'thread.item.removed') {
        this.unfinished.delete(event.item_id);
        this.stored.delete(event.item_id);
      }
    }
    return events;
  }

  /** An item this turn stored itself, without a done event (a workflow kept open for the next turn). */
  markStored(id: string): void {
    this.unfinished.delete(id);
    this.stored.add(id);
  }

  /** The ids to take back, forgotten here: the unfinished ones, or everything this turn showed. */
  takeBack(everything: boolean): string[] {
    const ids = everything ? [...this.unfinished, ...this.stored] : [...this.unfinished];
    this.unfinished.clear();
    if (everything) this.stored.clear();
    return ids;
  }
}
