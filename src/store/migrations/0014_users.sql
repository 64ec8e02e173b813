-- Staff accounts for the operator console (issue 13): people sign in with a name and a password
-- (argon2id hash, never the password), and their sessions are cookies whose token is stored hashed.
CREATE TABLE IF NOT EXISTS users (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
  role text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);

-- One row per signed-in browser: sha256 of the cookie's random token; expired rows are useless
-- (the lookup checks expires_at) and are deleted on sign-in.
CREATE TABLE IF NOT EXISTS user_sessions (
  token_hash text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS user_sessions_expires ON user_sessions (expires_at);

-- The console's approval rule: a launch above `above` recipients needs a second person's approval
-- (one row; none = no rule). Requests are kept: who asked, who approved, which launch used it.
CREATE TABLE IF NOT EXISTS launch_approval_rule (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  above integer NOT NULL CHECK (above >= 0),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS launch_approvals (
  id bigserial PRIMARY KEY,
  campaign_id text NOT NULL,
  recipients integer NOT NULL,
  requested_by text NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  approved_by text,
  approved_at timestamptz,
  used_at timestamptz,
  CHECK (approved_by IS NULL OR approved_by <> requested_by)
);
