import type { Migration } from 'kysely/migration';
import * as initial from './0001_initial.js';
import * as turnLease from './0002_turn_lease.js';
import * as search from './0003_search.js';
import * as boundedSearch from './0004_bounded_search.js';
import * as attachmentThreads from './0005_attachment_threads.js';
import * as pausedTurns from './0006_paused_turns.js';
import * as searchIndexDirect from './0007_search_index_direct.js';

/**
 * Every migration, imported statically so that esbuild bundles them into the Lambda that
 * applies them. Names sort in the order they run; never rename or edit one that has shipped.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_turn_lease': turnLease,
  '0003_search': search,
  '0004_bounded_search': boundedSearch,
  '0005_attachment_threads': attachmentThreads,
  '0006_paused_turns': pausedTurns,
  '0007_search_index_direct': searchIndexDirect,
};
