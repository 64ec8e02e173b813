-- Receipts no parser could read, or that PostgreSQL refused as data. deliver_sm_resp was already
-- sent, so the SMSC will not send them again: they are kept here for an operator, never dropped.
CREATE TABLE unreadable_receipts (
  id          bigserial PRIMARY KEY,
  carrier     carrier_id NOT NULL,
  raw         text NOT NULL,
  reason      text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX unreadable_receipts_received_at ON unreadable_receipts (received_at);
