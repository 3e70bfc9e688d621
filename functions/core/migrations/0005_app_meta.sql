-- QwenEditBot schema, version 5: facts about the database itself.
-- `presets_seed` holds the fingerprint of the built-in presets last seeded, so a new Spin
-- instance (one every 128 requests) checks the database with one read instead of seeding.

CREATE TABLE IF NOT EXISTS app_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
