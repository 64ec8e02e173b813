-- Ambiguous messages resolved by their receipts (issue 9, the kill -9 test: ambiguous ≤ window × binds).
--
-- A worker killed with SIGKILL leaves rows `submitting` that the reconciler turns `ambiguous`: the
-- PDU may have left. Most of them did: the engine holds up to three windows per bind, two of them
-- already answered by the SMSC but not yet written. The SMSC sends a receipt for every message it
-- accepted, but those receipts name an SMSC id that was never stored, so they find no segment and
-- are parked. A receipt's deliver_sm also names the handset (source_addr, SMPP 3.4 Appendix B: the
-- original destination), which is the message's recipient. So parked receipts now keep it
-- (normalised like messages.msisdn), and resolve_ambiguous gives a parked receipt to an
-- `ambiguous` message of the same carrier and number when nothing else could own it:
-- - the receipt came after the message's run began and after its claimer's lease began (a receipt
--   older than the claim cannot be the message's);
-- - no other message to that number on that carrier, in any run whose receipts may still come,
--   awaits a receipt (submitting, submitted, enroute, accepted, ambiguous, unknown): such a message
--   could own the receipt (its segment not written yet, or never), so the number is left alone;
-- - the distinct SMSC ids among those receipts number exactly the message's parts without a
--   segment (parts_total − parts_submitted): one receipt per missing part. Fewer (a part never
--   reached the SMSC, or its receipt is not here yet) or more: left ambiguous.
-- The message then gets the segments it lacks (mark_submitted with p_late, as a late
-- submit_sm_resp would: ambiguous → submitted, so later receipts for those ids match), and the
-- receipts are applied by apply_receipts (counted by the run_counts trigger). Nothing is resent.
-- Part numbers of those segments follow the receipts' arrival, after the parts already stored:
-- which missing part had which id is not known, and nothing depends on it.
--
-- The handset's number stays only in parked_receipts (dropped by day with the window), not in
-- unmatched_receipts, which is kept: phone numbers leave with their run (retention).

ALTER TABLE parked_receipts ADD COLUMN msisdn text;

-- apply_receipts and match_parked of 0004 with the number passed through to parked_receipts;
-- nothing else changed. p_msisdns is last and optional, so existing callers keep working.
DROP FUNCTION apply_receipts(carrier_id[], text[], message_state[], text[], timestamptz[], text[], timestamptz[], interval);
DROP FUNCTION match_parked(int, interval, bigint);

CREATE FUNCTION apply_receipts(
  p_carriers carrier_id[], p_smsc_ids text[], p_states message_state[], p_errors text[],
  p_done_at timestamptz[], p_raw text[], p_received_at timestamptz[], p_window interval,
  p_msisdns text[] DEFAULT NULL
) RETURNS TABLE (applied int, duplicates int, parked int)
LANGUAGE plpgsql SET enable_nestloop = off SET enable_hashjoin = on SET enable_mergejoin = on SET enable_seqscan = off
  SET plan_cache_mode = force_custom_plan SET jit = off AS $$
DECLARE
  v_since timestamptz := now() - p_window;
  v_since_day date := ((now() - p_window) AT TIME ZONE 'UTC')::date;
  v_today date := loa_today();
  c_run bigint[]; c_msg int[]; c_state message_state[]; c_err text[]; c_done timestamptz[]; c_ord bigint[];
  v_applied int := 0; v_parked int := 0; v_total int := coalesce(cardinality(p_smsc_ids), 0);
  v_run bigint;
BEGIN
  PERFORM create_day_partition('parked_receipts', v_today);
  WITH r AS (
    SELECT * FROM unnest(p_carriers, p_smsc_ids, p_states, p_errors, p_done_at, p_raw, p_received_at, coalesce(p_msisdns, '{}'::text[]))
      WITH ORDINALITY AS r(carrier, smsc_message_id, state, error_code, done_at, raw, received_at, msisdn, ord)
  ),
  newest AS (
    SELECT DISTINCT ON (s.smsc_message_id, s.carrier) s.smsc_message_id, s.carrier, s.run_id, s.message_id, s.part, s.submitted_day, s.state
    FROM message_segments s
    WHERE s.smsc_message_id = ANY(p_smsc_ids) AND s.submitted_day >= v_since_day AND s.submitted_at >= v_since
    ORDER BY s.smsc_message_id, s.carrier, s.submitted_at DESC
  ),
  matched AS (
    SELECT r.*, n.run_id, n.message_id, n.part, n.submitted_day, n.state AS segment_state
    FROM r JOIN newest n ON n.smsc_message_id = r.smsc_message_id AND n.carrier = r.carrier
  ),
  upd AS (
    UPDATE message_segments s SET state = m.state
    FROM matched m
    WHERE s.smsc_message_id = ANY(p_smsc_ids) AND s.submitted_day >= v_since_day
      AND s.smsc_message_id = m.smsc_message_id AND s.carrier = m.carrier AND s.run_id = m.run_id
      AND s.message_id = m.message_id AND s.part = m.part AND s.submitted_day = m.submitted_day
      -- On s, not m: a concurrent writer's change is re-checked (READ COMMITTED re-evaluation).
      AND (s.state IS NULL OR s.state IN ('enroute', 'accepted'))
    RETURNING s.run_id, s.message_id, m.state, m.error_code, m.done_at, m.ord
  ),
  park AS (
    INSERT INTO parked_receipts (carrier, smsc_message_id, state, error_code, done_at, raw, received_at, received_day, msisdn)
    SELECT r.carrier, r.smsc_message_id, r.state, r.error_code, r.done_at, r.raw, coalesce(r.received_at, now()), v_today, r.msisdn
    FROM r LEFT JOIN matched m ON m.ord = r.ord
    WHERE m.ord IS NULL
       OR (m.segment_state IS NOT NULL AND m.segment_state NOT IN ('enroute', 'accepted')
           AND r.state NOT IN ('enroute', 'accepted') AND r.state <> m.segment_state)
    RETURNING 1
  )
  SELECT array_agg(u.run_id), array_agg(u.message_id), array_agg(u.state), array_agg(u.error_code), array_agg(u.done_at), array_agg(u.ord),
         count(*), (SELECT count(*) FROM park)
  INTO c_run, c_msg, c_state, c_err, c_done, c_ord, v_applied, v_parked
  FROM upd u;

  IF v_applied > 0 THEN
    FOR v_run IN SELECT DISTINCT x FROM unnest(c_run) AS x LOOP
      -- One change per message: delivered when every part is (counted against parts_total),
      -- failed with the first failing part's state and code, else the latest interim state.
      UPDATE messages m SET
        parts_delivered = m.parts_delivered + u.delivered,
        state = CASE
          WHEN u.failed IS NOT NULL THEN u.failed
          WHEN m.parts_delivered + u.delivered >= m.parts_total THEN 'delivered'::message_state
          WHEN u.interim IS NOT NULL AND m.state <> 'submitting' THEN u.interim
          ELSE m.state END,
        error_code = coalesce(u.error_code, m.error_code),
        done_at = CASE WHEN u.failed IS NOT NULL OR m.parts_delivered + u.delivered >= m.parts_total
                       THEN coalesce(u.done_at, now()) ELSE m.done_at END
      FROM (
        -- Plain aggregates and look-ups by ord, not array_agg(… ORDER BY …): those sort once per
        -- message, which costs more than the whole update for a batch of single-part messages.
        WITH c AS (
          SELECT * FROM unnest(c_run, c_msg, c_state, c_err, c_done, c_ord) AS c(run_id, message_id, state, error_code, done_at, ord)
          WHERE c.run_id = v_run
        ),
        a AS (
          SELECT c.message_id AS id,
                 count(*) FILTER (WHERE c.state = 'delivered')::int AS delivered,
                 min(c.ord) FILTER (WHERE c.state NOT IN ('delivered', 'enroute', 'accepted')) AS failed_ord,
                 max(c.ord) FILTER (WHERE c.state IN ('enroute', 'accepted')) AS interim_ord,
                 max(c.ord) FILTER (WHERE c.error_code IS NOT NULL) AS error_ord,
                 max(c.done_at) FILTER (WHERE c.state = 'delivered') AS delivered_at
          FROM c GROUP BY c.message_id
        )
        SELECT a.id, a.delivered, f.state AS failed, i.state AS interim,
               coalesce(f.error_code, e.error_code) AS error_code, coalesce(f.done_at, a.delivered_at) AS done_at
        FROM a
        LEFT JOIN c f ON f.ord = a.failed_ord
        LEFT JOIN c i ON i.ord = a.interim_ord
        LEFT JOIN c e ON e.ord = a.error_ord
      ) u
      WHERE m.run_id = v_run AND m.id = ANY(c_msg) AND m.id = u.id
        AND m.state IN ('submitting', 'submitted', 'enroute', 'accepted', 'ambiguous', 'unknown');
    END LOOP;
  END IF;
  RETURN QUERY SELECT v_applied, v_total - v_applied - v_parked, v_parked;
END $$;

CREATE FUNCTION match_parked(p_limit int, p_window interval, p_after bigint DEFAULT 0)
RETURNS TABLE (applied int, duplicates int, parked int, last_id bigint)
LANGUAGE plpgsql SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET plan_cache_mode = force_custom_plan SET jit = off AS $$
DECLARE
  v_since timestamptz := now() - p_window;
  v_since_day date := ((now() - p_window) AT TIME ZONE 'UTC')::date;
  v_last bigint; v_seen int;
  k_carrier carrier_id[]; k_id text[]; k_state message_state[]; k_err text[]; k_done timestamptz[]; k_raw text[]; k_recv timestamptz[]; k_msisdn text[];
BEGIN
  SELECT max(c.id), count(*) INTO v_last, v_seen
  FROM (SELECT p.id FROM parked_receipts p WHERE p.id > p_after ORDER BY p.id LIMIT p_limit) c;
  IF v_seen = 0 THEN
    RETURN QUERY SELECT 0, 0, 0, 0::bigint;
    RETURN;
  END IF;
  WITH chunk AS (
    SELECT p.id, p.received_day FROM parked_receipts p
    WHERE p.id > p_after AND p.id <= v_last
      AND EXISTS (SELECT 1 FROM message_segments s
                  WHERE s.smsc_message_id = p.smsc_message_id AND s.carrier = p.carrier
                    AND s.submitted_day >= v_since_day AND s.submitted_at >= v_since)
    FOR UPDATE SKIP LOCKED
  ),
  gone AS (
    DELETE FROM parked_receipts p USING chunk c WHERE p.id = c.id AND p.received_day = c.received_day
    RETURNING p.id, p.carrier, p.smsc_message_id, p.state, p.error_code, p.done_at, p.raw, p.received_at, p.msisdn
  )
  SELECT array_agg(g.carrier ORDER BY g.id), array_agg(g.smsc_message_id ORDER BY g.id), array_agg(g.state ORDER BY g.id),
         array_agg(g.error_code ORDER BY g.id), array_agg(g.done_at ORDER BY g.id), array_agg(g.raw ORDER BY g.id), array_agg(g.received_at ORDER BY g.id),
         array_agg(g.msisdn ORDER BY g.id)
  INTO k_carrier, k_id, k_state, k_err, k_done, k_raw, k_recv, k_msisdn
  FROM gone g;
  IF k_id IS NULL THEN
    RETURN QUERY SELECT 0, 0, 0, CASE WHEN v_seen < p_limit THEN 0 ELSE v_last END;
    RETURN;
  END IF;
  RETURN QUERY SELECT a.applied, a.duplicates, a.parked, CASE WHEN v_seen < p_limit THEN 0 ELSE v_last END
  FROM apply_receipts(k_carrier, k_id, k_state, k_err, k_done, k_raw, k_recv, p_window, k_msisdn) a;
END $$;

-- ---------------------------------------------------------------- resolve_ambiguous
-- One run's `ambiguous` messages resolved by parked receipts (see the header). Returns the
-- messages resolved and the receipts applied. One resolver at a time (an advisory lock; another
-- caller returns 0 at once). Cost: a look at parked_receipts (small: receipts that overtook their
-- submit_sm_resp), and only when one carries the number of one of this run's ambiguous messages a
-- scan of the run's partition and of the runs whose receipts may still come, by number.
CREATE FUNCTION resolve_ambiguous(p_run bigint, p_window interval)
RETURNS TABLE (messages int, receipts int)
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan SET jit = off AS $$
DECLARE
  v_since timestamptz := now() - p_window;
  v_since_day date := ((now() - p_window) AT TIME ZONE 'UTC')::date;
  v_start timestamptz;
  v_runs bigint[];
  c_id bigint[]; c_carrier carrier_id[]; c_smsc text[]; c_msisdn text[]; c_recv timestamptz[];
  a_id int[]; a_carrier carrier_id[]; a_msisdn text[]; a_missing int[]; a_done int[]; a_since timestamptz[];
  r_msg int[]; r_carrier carrier_id[]; r_smsc text[]; r_part int2[];
  v_carrier carrier_id;
  v_messages int := 0;
  v_applied int := 0;
  k_carrier carrier_id[]; k_id text[]; k_state message_state[]; k_err text[]; k_done timestamptz[]; k_raw text[]; k_recv timestamptz[]; k_msisdn text[];
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended('loa:resolve-ambiguous', 0)) THEN
    RETURN QUERY SELECT 0, 0;
    RETURN;
  END IF;
  SELECT greatest(coalesce(r.started_at, r.created_at), v_since) INTO v_start FROM runs r WHERE r.id = p_run;
  IF v_start IS NULL THEN
    RETURN QUERY SELECT 0, 0;
    RETURN;
  END IF;

  -- Parked receipts with a number, since the run began, that still find no segment. Locked: the
  -- parked sweep (SKIP LOCKED) leaves them to us until we are done.
  SELECT array_agg(p.id), array_agg(p.carrier), array_agg(p.smsc_message_id), array_agg(p.msisdn), array_agg(p.received_at)
  INTO c_id, c_carrier, c_smsc, c_msisdn, c_recv
  FROM (
    SELECT p.id, p.carrier, p.smsc_message_id, p.msisdn, p.received_at FROM parked_receipts p
    WHERE p.msisdn IS NOT NULL AND p.received_day >= (v_start AT TIME ZONE 'UTC')::date AND p.received_at >= v_start
      AND NOT EXISTS (SELECT 1 FROM message_segments s
                      WHERE s.smsc_message_id = p.smsc_message_id AND s.carrier = p.carrier
                        AND s.submitted_day >= v_since_day AND s.submitted_at >= v_since)
    FOR UPDATE OF p
  ) p;
  IF c_id IS NULL THEN
    RETURN QUERY SELECT 0, 0;
    RETURN;
  END IF;

  -- This run's ambiguous messages to those numbers, with the earliest their claim can have been.
  SELECT array_agg(m.id), array_agg(m.carrier), array_agg(m.msisdn), array_agg(m.parts_total - m.parts_submitted),
         array_agg(m.parts_submitted::int), array_agg(greatest(v_start, l.started_at))
  INTO a_id, a_carrier, a_msisdn, a_missing, a_done, a_since
  FROM messages m LEFT JOIN worker_leases l ON l.id = m.claim
  WHERE m.run_id = p_run AND m.state = 'ambiguous' AND m.msisdn = ANY(c_msisdn);
  IF a_id IS NULL THEN
    RETURN QUERY SELECT 0, 0;
    RETURN;
  END IF;

  -- Every run whose messages may still get receipts (this one included): a message to the same
  -- number there could own the receipt.
  SELECT array_agg(r.id) INTO v_runs FROM runs r
  WHERE r.id = p_run OR r.finished_at IS NULL OR r.finished_at >= v_since;

  WITH c AS (
    SELECT * FROM unnest(c_id, c_carrier, c_smsc, c_msisdn, c_recv) AS c(id, carrier, smsc_message_id, msisdn, received_at)
  ),
  a AS (
    SELECT * FROM unnest(a_id, a_carrier, a_msisdn, a_missing, a_done, a_since) AS a(id, carrier, msisdn, missing, done, since)
  ),
  awaiting AS (
    SELECT o.carrier, o.msisdn, count(*) AS n FROM messages o
    WHERE o.run_id = ANY(v_runs) AND o.msisdn = ANY(a_msisdn)
      AND o.state IN ('submitting', 'submitted', 'enroute', 'accepted', 'ambiguous', 'unknown')
    GROUP BY o.carrier, o.msisdn
  ),
  ids AS (
    SELECT a.id, a.carrier, a.msisdn, a.missing, a.done, c.smsc_message_id, min(c.id) AS first_parked
    FROM a JOIN c ON c.carrier = a.carrier AND c.msisdn = a.msisdn AND c.received_at >= a.since
    GROUP BY a.id, a.carrier, a.msisdn, a.missing, a.done, c.smsc_message_id
  ),
  counted AS (
    SELECT ids.*, count(*) OVER (PARTITION BY ids.id) AS n_ids, row_number() OVER (PARTITION BY ids.id ORDER BY ids.first_parked) AS nth
    FROM ids
  ),
  clear AS (
    SELECT k.* FROM counted k
    JOIN awaiting w ON w.carrier = k.carrier AND w.msisdn = k.msisdn AND w.n = 1
    WHERE k.n_ids = k.missing
  )
  SELECT array_agg(k.id), array_agg(k.carrier), array_agg(k.smsc_message_id), array_agg((k.done + k.nth)::int2)
  INTO r_msg, r_carrier, r_smsc, r_part
  FROM clear k
  -- A message resolves whole or not at all: none of its ids got a segment meanwhile.
  WHERE NOT EXISTS (
    SELECT 1 FROM clear x JOIN message_segments s ON s.smsc_message_id = x.smsc_message_id AND s.carrier = x.carrier
      AND s.submitted_day >= v_since_day AND s.submitted_at >= v_since
    WHERE x.id = k.id);
  IF r_msg IS NULL THEN
    RETURN QUERY SELECT 0, 0;
    RETURN;
  END IF;

  -- The segments the message lacked, as a late submit_sm_resp would write them: ambiguous → submitted.
  FOR v_carrier IN SELECT DISTINCT x FROM unnest(r_carrier) AS x LOOP
    v_messages := v_messages + (
      SELECT ms.submitted FROM mark_submitted(p_run, v_carrier,
        ARRAY(SELECT u.s FROM unnest(r_carrier, r_smsc) AS u(c, s) WHERE u.c = v_carrier),
        ARRAY(SELECT u.m FROM unnest(r_carrier, r_msg) AS u(c, m) WHERE u.c = v_carrier),
        ARRAY(SELECT u.p FROM unnest(r_carrier, r_part) AS u(c, p) WHERE u.c = v_carrier),
        true) ms);
  END LOOP;

  -- Their receipts: out of parked_receipts and applied, one per id (the last final one, else the
  -- last interim one, as ReceiptRepository.applyReceipts keeps per batch).
  WITH gone AS (
    DELETE FROM parked_receipts p
    USING unnest(r_carrier, r_smsc) AS u(carrier, smsc_message_id)
    WHERE p.id = ANY(c_id) AND p.carrier = u.carrier AND p.smsc_message_id = u.smsc_message_id
    RETURNING p.id, p.carrier, p.smsc_message_id, p.state, p.error_code, p.done_at, p.raw, p.received_at, p.msisdn
  ),
  latest AS (
    SELECT DISTINCT ON (g.carrier, g.smsc_message_id) g.* FROM gone g
    ORDER BY g.carrier, g.smsc_message_id, (g.state IN ('enroute', 'accepted')), g.id DESC
  )
  SELECT array_agg(g.carrier ORDER BY g.id), array_agg(g.smsc_message_id ORDER BY g.id), array_agg(g.state ORDER BY g.id),
         array_agg(g.error_code ORDER BY g.id), array_agg(g.done_at ORDER BY g.id), array_agg(g.raw ORDER BY g.id),
         array_agg(g.received_at ORDER BY g.id), array_agg(g.msisdn ORDER BY g.id)
  INTO k_carrier, k_id, k_state, k_err, k_done, k_raw, k_recv, k_msisdn
  FROM latest g;
  SELECT a.applied INTO v_applied FROM apply_receipts(k_carrier, k_id, k_state, k_err, k_done, k_raw, k_recv, p_window, k_msisdn) a;
  RETURN QUERY SELECT v_messages, v_applied;
END $$;
