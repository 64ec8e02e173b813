-- Loudspeakers (issue 11): a commune loudspeaker cluster is a `screens` row of kind 'loudspeaker',
-- so the registry, tokens, versions, long-polls and proof of play (plays) are the screens' own.
-- Minutes per commune = sum(played_to - played_from) over plays joined to screens of that kind.
ALTER TABLE screens
  ADD COLUMN hamlet   text,
  -- Local HH:MM windows [{ "from": "05:30", "to": "06:30" }] in time_zone; `to` before `from` crosses midnight.
  ADD COLUMN airtime  jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN blackout jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN time_zone text NOT NULL DEFAULT 'Asia/Ho_Chi_Minh';

-- Rendered speech and uploaded audio, once per content hash, in PostgreSQL so every API process
-- serves the same bytes (no shared disk to mount).
CREATE TABLE audio_clips (
  hash         text PRIMARY KEY,               -- sha256 of (engine, voice, text) or of the uploaded bytes
  content_type text NOT NULL,                  -- audio/ogg (Ogg Opus)
  bytes        bytea NOT NULL,
  duration_ms  integer NOT NULL CHECK (duration_ms > 0),
  source       text NOT NULL CHECK (source IN ('speech', 'upload')),
  text         text,                           -- what was read out (speech)
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- A loudspeaker item carries its audio (and plays only on loudspeakers); a screen item has none.
ALTER TABLE playlist_items
  ADD COLUMN audio_hash     text REFERENCES audio_clips (hash),
  ADD COLUMN audio_ms       integer CHECK (audio_ms > 0),
  ADD COLUMN repetitions    integer CHECK (repetitions BETWEEN 1 AND 100), -- per day
  ADD COLUMN target_hamlets text[];
CREATE INDEX screens_loudspeaker_commune ON screens (commune) WHERE kind = 'loudspeaker';
