-- QwenEditBot schema, version 11: the operator console's sign-in. Each try claims a row per
-- key (the client's address, the submitted name) in one statement, so parallel guesses
-- cannot all pass; rows are forgotten (pruned) once `expires_ms` is past. An operator's
-- session generation is part of their signed cookie: signing out raises it, ending every
-- session issued before.

CREATE TABLE IF NOT EXISTS console_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    until_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS console_throttle_expires ON console_throttle (expires_ms);

CREATE TABLE IF NOT EXISTS console_sessions (
    operator TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
);
