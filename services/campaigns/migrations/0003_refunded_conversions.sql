-- A refund of a converting purchase takes back the revenue it converted; a conversion refunded in
-- full is withdrawn (converted_at and the rest cleared), so a later purchase in the window may count.
ALTER TABLE decisions ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0;
-- Refunds name the purchase they return; this finds the conversions it made.
CREATE INDEX decisions_conversion_purchase ON decisions (conversion_purchase_id)
    WHERE conversion_purchase_id IS NOT NULL;
