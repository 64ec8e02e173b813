-- Screens (issue 10): the registry's location, languages and poll interval; a per-screen
-- version bumped on every change to its playlist (the ETag), pushes, and area targets.
-- The columns of 0001 stay as they are: reports read them.
ALTER TABLE screens
  ADD COLUMN province      text,
  ADD COLUMN commune       text,
  ADD COLUMN location      text,
  ADD COLUMN languages     text[] NOT NULL DEFAULT '{vi}',
  ADD COLUMN poll_interval integer NOT NULL DEFAULT 60 CHECK (poll_interval BETWEEN 5 AND 3600), -- seconds
  ADD COLUMN version       bigint NOT NULL DEFAULT 1,
  ADD COLUMN push_url      text,
  ADD COLUMN pushed_version bigint,               -- the version the controller acknowledged
  ADD COLUMN token_rotated_at timestamptz;

-- A campaign's screens item targets every screen matching all of its given criteria
-- (NULL = any): ids, kinds, tags (any of), provinces, communes.
ALTER TABLE playlist_items
  ADD COLUMN target_ids       text[],
  ADD COLUMN target_provinces text[],
  ADD COLUMN target_communes  text[],
  -- Pausing or cancelling the run withdraws its items; resuming restores them.
  ADD COLUMN withdrawn_at     timestamptz;
CREATE INDEX playlist_items_run ON playlist_items (run_id) WHERE run_id IS NOT NULL;
-- One launch makes one item per (run, screens entry): a retried launch adds nothing.
ALTER TABLE playlist_items ADD COLUMN entry integer;
CREATE UNIQUE INDEX playlist_items_run_entry ON playlist_items (run_id, entry) WHERE run_id IS NOT NULL AND entry IS NOT NULL;
CREATE INDEX plays_item ON plays (item_id);
