-- A test launch (`loa launch FILE --test LIST`) sends the campaign to this list only (issue 8).
-- IF NOT EXISTS: the engine's 0005 may add the same column; whichever applies first wins.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS test_list text;

-- GET /v1/runs lists newest first, optionally for one state.
CREATE INDEX IF NOT EXISTS runs_state_id ON runs (state, id DESC);
