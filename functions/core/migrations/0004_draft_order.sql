-- QwenEditBot schema, version 4: draft images keep their message's id.
-- The photos of an album arrive as separate webhook updates, often at the same moment and in
-- any order; a job takes them in the album's order (message_id), not in arrival order.

ALTER TABLE draft_images ADD COLUMN message_id INTEGER NOT NULL DEFAULT 0;
