-- Payments, version 3: provider state, Stars charges, refunds and the credit/refund triggers.
-- Amounts: `amount` is in the currency's smallest unit (kopecks for RUB, stars for XTR);
-- `credits`, `bonus`, `refunded`, `shortfall` are credits.

ALTER TABLE payments ADD COLUMN provider_status TEXT;
ALTER TABLE payments ADD COLUMN charge_id TEXT;
ALTER TABLE payments ADD COLUMN refund_id TEXT;
ALTER TABLE payments ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0);
ALTER TABLE payments ADD COLUMN shortfall INTEGER NOT NULL DEFAULT 0 CHECK (shortfall >= 0);
ALTER TABLE payments ADD COLUMN credited_at INTEGER;
ALTER TABLE payments ADD COLUMN refunded_at INTEGER;

CREATE UNIQUE INDEX IF NOT EXISTS payments_by_charge ON payments (charge_id) WHERE charge_id IS NOT NULL;

-- A payment that becomes succeeded is credited (top-up + bonus) in the same statement, once.
CREATE TRIGGER IF NOT EXISTS payments_credit AFTER UPDATE OF status ON payments
WHEN NEW.status = 'succeeded' AND OLD.status IN ('pending', 'failed')
BEGIN
    INSERT OR IGNORE INTO ledger (user_id, amount, kind, reference, created_at)
    VALUES (NEW.user_id, NEW.credits, 'topup', NEW.id, NEW.updated_at);
    INSERT OR IGNORE INTO ledger (user_id, amount, kind, reference, created_at)
    SELECT NEW.user_id, NEW.bonus, 'topup_bonus', NEW.id, NEW.updated_at WHERE NEW.bonus > 0;
END;

-- A refunded payment takes back what it credited, at most the balance, in the same statement.
CREATE TRIGGER IF NOT EXISTS payments_refund AFTER UPDATE OF status ON payments
WHEN NEW.status = 'refunded' AND OLD.status = 'succeeded' AND NEW.refunded > 0
BEGIN
    INSERT OR IGNORE INTO ledger (user_id, amount, kind, reference, created_at)
    VALUES (NEW.user_id, -NEW.refunded, 'topup_refund', NEW.id, NEW.updated_at);
END;
