/**
 * The state schema, as forward migrations. Migration N brings a state file
 * from version N-1 to N; a file newer than the last one here is refused.
 */
export const MIGRATIONS: string[] = [
  // 1: the first schema
  `
  CREATE TABLE connections (
    name TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    credential TEXT,              -- JSON; never printed
    info TEXT,                    -- JSON: objects and fields read at connect time
    created_at TEXT NOT NULL
  );
  CREATE TABLE syncs (
    name TEXT PRIMARY KEY,
    object TEXT NOT NULL,
    a_conn TEXT NOT NULL,
    b_conn TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'idle',
    status_detail TEXT,
    scanned INTEGER NOT NULL DEFAULT 0,
    last_success_at TEXT,
    mappings TEXT,                -- JSON: the effective mappings of the last run
    settings TEXT,                -- fingerprint of the settings of the last successful pass
    updated_at TEXT NOT NULL
  );
  -- A link pairs record a_id of connection a with b_id of connection b.
  -- base: JSON {mappingKey: [aValue, bValue]} after the last successful sync.
  CREATE TABLE links (
    sync TEXT NOT NULL,
    a_id TEXT NOT NULL,
    b_id TEXT NOT NULL,
    base TEXT NOT NULL DEFAULT '{}',
    assoc TEXT,                   -- JSON base of associations {name: [aId, bId]}
    deleted TEXT,                 -- 'a' | 'b' when that side was deleted
    a_hash TEXT,                  -- fingerprint of record a as last read in sync (null: unknown)
    b_hash TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (sync, a_id),
    UNIQUE (sync, b_id)
  );
  -- Match keys of every record seen, linked or not, to match new records
  -- against records that did not change in this run.
  CREATE TABLE match_keys (
    sync TEXT NOT NULL,
    side TEXT NOT NULL,
    key TEXT NOT NULL,
    record_id TEXT NOT NULL
  );
  CREATE INDEX match_keys_by_key ON match_keys (sync, side, key);
  CREATE INDEX match_keys_by_record ON match_keys (sync, side, record_id);
  -- Records that are not in sync: failed (with the app's reason) or excluded.
  CREATE TABLE record_status (
    sync TEXT NOT NULL,
    side TEXT NOT NULL,
    record_id TEXT NOT NULL,
    status TEXT NOT NULL,          -- 'failed' | 'excluded'
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_retry_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (sync, side, record_id)
  );
  CREATE TABLE cursors (
    sync TEXT NOT NULL,
    side TEXT NOT NULL,
    cursor TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (sync, side)
  );
  -- A create is written here before the app is asked, and removed in the same
  -- transaction that records its link: a crash in between leaves the intent,
  -- and the next run adopts the record the app made instead of creating again.
  CREATE TABLE pending_creates (
    sync TEXT NOT NULL,
    side TEXT NOT NULL,            -- the side the record is created on
    source_id TEXT NOT NULL,       -- the record on the other side
    fields TEXT NOT NULL,          -- JSON of what was sent
    created_at TEXT NOT NULL,
    PRIMARY KEY (sync, side, source_id)
  );
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    pid INTEGER NOT NULL,
    outcome TEXT,                  -- 'ok' | 'failed-records' | 'error' | 'interrupted'
    summary TEXT,                  -- JSON per sync
    error TEXT
  );
  `,
  // 2: the deleted links apart, so the deletion check lists the live links' ids from the
  //    key indexes without reading their rows (a small index: few links are deleted)
  `
  CREATE INDEX links_deleted ON links (sync, a_id, b_id) WHERE deleted IS NOT NULL;
  `,
  // 3: match keys clustered by key (two B-trees per key written instead of three)
  `
  CREATE TABLE match_keys_v3 (
    sync TEXT NOT NULL,
    side TEXT NOT NULL,
    key TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (sync, side, key, record_id)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO match_keys_v3 SELECT sync, side, key, record_id FROM match_keys;
  DROP TABLE match_keys;
  ALTER TABLE match_keys_v3 RENAME TO match_keys;
  CREATE INDEX match_keys_by_record ON match_keys (sync, side, record_id);
  `,
  // 4: states migrated by a build whose migration 2 indexed the live links (two indexes every
  //    link write maintained) get the index of deleted links instead; a no-op for the others
  `
  DROP INDEX IF EXISTS links_live_a;
  DROP INDEX IF EXISTS links_live_b;
  CREATE INDEX IF NOT EXISTS links_deleted ON links (sync, a_id, b_id) WHERE deleted IS NOT NULL;
  `,
  // 5: why a deleted side went, where the app could tell ('archived', 'merged:<id>', 'privacy',
  //    'purged'; NULL: not said), and when each side's deletion check last read every linked record
  `
  ALTER TABLE links ADD COLUMN gone TEXT;
  CREATE TABLE deletion_checks (
    sync TEXT NOT NULL,
    side TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    PRIMARY KEY (sync, side)
  );
  `,
  // 6: when each side was last read whole, so a change cursor that can miss edits (a SQLite
  //    updated_at column left alone by an UPDATE) is made good by a full comparison every `reconcile`
  `
  ALTER TABLE cursors ADD COLUMN read_whole_at TEXT;
  `,
  // 7: what each side of a sync points at (JSON [a, b], engine/identity.ts); NULL for syncs
  //    from before, adopted as they are on their next run
  `
  ALTER TABLE syncs ADD COLUMN identities TEXT;
  `,
  // 8: `watch`'s webhook receivers (issue 18), one row per connection: whether they are live
  //    (the watcher's pid, stopped_at) and what they received, for `health`
  `
  CREATE TABLE webhooks (
    connection TEXT PRIMARY KEY,
    url TEXT NOT NULL,              -- where the receiver listens
    pid INTEGER NOT NULL,           -- the watcher's
    started_at TEXT NOT NULL,
    stopped_at TEXT,                -- NULL while the watcher runs
    events INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    signature_failures INTEGER NOT NULL DEFAULT 0,
    last_event_at TEXT,
    last_failure_at TEXT,
    last_failure TEXT,
    targeted_passes INTEGER NOT NULL DEFAULT 0,
    last_pass_at TEXT,
    minutes TEXT NOT NULL DEFAULT '{}', -- JSON {epochMinute: events} of the last 15 minutes
    updated_at TEXT NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
