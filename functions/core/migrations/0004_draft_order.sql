-- QwenEditBot schema, version 4: draft images keep their message's id and whether they were
-- the first of their album to arrive.
-- The photos of an album arrive as separate webhook updates, often at the same moment and in
-- any order; a job takes them in the album's order (message_id), not in arrival order, and
-- exactly one of them (the first stored, decided inside its INSERT) answers for the album.

ALTER TABLE draft_images ADD COLUMN message_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE draft_images ADD COLUMN album_first INTEGER NOT NULL DEFAULT 0;
