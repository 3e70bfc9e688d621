-- Payments, version 10: refunds one by one, and what the chat needs.
-- * `refunded_amount`: what the provider refunded, in the smallest unit (kopecks, stars).
-- * `payment_refunds`: every refund applied, once per refund id (YooKassa's refund id,
--   `stars:<charge>`); `taken` credits were taken back, `shortfall` could not be (balance).
--   A Stars charge refunded without credit (it could not be credited) is recorded here too.
-- * `checkout_id`: the one accepted Stars pre-checkout query of an invoice.
-- * `chat_id`, `message_id`: the chat message that offers the payment ("Pay" or the invoice).
-- * A refund takes back its share of credits + bonus: the cumulative refunded fraction of the
--   amount, rounded down, so several partial refunds add up to the whole at most; the
--   `payments_refund` trigger is replaced by one that fires per refund.

ALTER TABLE payments ADD COLUMN refunded_amount INTEGER NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0);
ALTER TABLE payments ADD COLUMN checkout_id TEXT;
ALTER TABLE payments ADD COLUMN chat_id INTEGER;
ALTER TABLE payments ADD COLUMN message_id INTEGER;

CREATE TABLE IF NOT EXISTS payment_refunds (
    refund_id  TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL,
    user_id    INTEGER NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount >= 0),
    taken      INTEGER NOT NULL DEFAULT 0 CHECK (taken >= 0),
    shortfall  INTEGER NOT NULL DEFAULT 0 CHECK (shortfall >= 0),
    created_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS payment_refunds_by_payment ON payment_refunds (payment_id);

-- The sweep looks for stale pending payments every minute.
CREATE INDEX IF NOT EXISTS payments_pending ON payments (created_at) WHERE status = 'pending';

-- Refunds made before this version were whole refunds.
UPDATE payments SET refunded_amount = amount WHERE status = 'refunded';
INSERT OR IGNORE INTO payment_refunds (refund_id, payment_id, user_id, amount, taken, shortfall, created_at)
SELECT refund_id, id, user_id, amount, refunded, shortfall, COALESCE(refunded_at, updated_at)
FROM payments WHERE status = 'refunded' AND refund_id IS NOT NULL;

DROP TRIGGER IF EXISTS payments_refund;
CREATE TRIGGER IF NOT EXISTS payments_refund AFTER UPDATE OF refunded_amount ON payments
WHEN NEW.refunded_amount > OLD.refunded_amount AND NEW.refund_id IS NOT NULL
BEGIN
    INSERT INTO payment_refunds (refund_id, payment_id, user_id, amount, taken, shortfall, created_at)
    VALUES (NEW.refund_id, NEW.id, NEW.user_id, NEW.refunded_amount - OLD.refunded_amount,
            NEW.refunded - OLD.refunded, NEW.shortfall - OLD.shortfall, NEW.updated_at);
    INSERT INTO ledger (user_id, amount, kind, reference, note, created_at)
    SELECT NEW.user_id, OLD.refunded - NEW.refunded, 'topup_refund', NEW.id || ':' || NEW.refund_id,
           CASE WHEN NEW.refunded_by IS NULL THEN NULL ELSE 'refunded by ' || NEW.refunded_by END,
           NEW.updated_at
    WHERE NEW.refunded > OLD.refunded;
END;
