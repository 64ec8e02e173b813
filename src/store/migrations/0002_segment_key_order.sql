-- message_segments is looked up by batches of SMSC ids (`smsc_message_id = ANY(…)`, see
-- MessageRepository). With the id as the leading key column each lookup is one index descent;
-- with carrier first, the planner either descends once per (carrier, id) pair or scans every
-- entry of the carriers. Same uniqueness, (carrier, smsc message id), DESIGN.md.
ALTER TABLE message_segments DROP CONSTRAINT message_segments_pkey;
ALTER TABLE message_segments ADD PRIMARY KEY (smsc_message_id, carrier);

-- The same for the parked receipts markSubmitted looks for.
DROP INDEX parked_receipts_key;
CREATE INDEX parked_receipts_key ON parked_receipts (smsc_message_id, carrier);
