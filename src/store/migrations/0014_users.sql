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
