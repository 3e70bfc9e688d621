-- QwenEditBot schema, version 2: the bot's draft images.
-- The photos of an album arrive as separate, possibly concurrent, webhook updates; each one
-- is a row here (a unique insert), never a rewrite of one key-value entry.

CREATE TABLE IF NOT EXISTS draft_images (
    chat_id        INTEGER NOT NULL,
    file_id        TEXT NOT NULL,
    media_group_id TEXT,
    added_at       INTEGER NOT NULL,
    PRIMARY KEY (chat_id, file_id)
);

CREATE INDEX IF NOT EXISTS draft_images_by_age ON draft_images (added_at);
