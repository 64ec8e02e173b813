-- How many subscribers each list holds, kept with the list rather than counted on every read.
--
-- GET /v1/lists (and the console's audience page) counted every subscriber of every list per
-- request: a scan of the whole subscribers table, seconds for a province's ten million numbers.
-- Only an import (AudienceRepository.mergeSubscribers, which holds the list's row lock) and a
-- list's deletion change a list's subscribers, so the import keeps the count exact in the same
-- transaction.
ALTER TABLE lists ADD COLUMN subscriber_count bigint NOT NULL DEFAULT 0 CHECK (subscriber_count >= 0);

UPDATE lists l SET subscriber_count = c.n
FROM (SELECT list_id, count(*) AS n FROM subscribers GROUP BY list_id) c
WHERE c.list_id = l.id;
