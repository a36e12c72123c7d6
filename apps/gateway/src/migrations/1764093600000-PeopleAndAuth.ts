import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, teams (many-to-many), login sessions (opaque tokens stored hashed), API keys, login throttling. */
export class PeopleAndAuth1764093600000 implements MigrationInterface {
  name = 'PeopleAndAuth1764093600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE gateway.team (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CONSTRAINT team_name_ck CHECK (length(name) BETWEEN 1 AND 100),
      created_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE UNIQUE INDEX team_name_uq ON gateway.team (lower(name))`);
    await q.query(`CREATE TABLE gateway.app_user (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      email text NOT NULL,
      name text NOT NULL,
      role text NOT NULL CONSTRAINT app_user_role_ck CHECK (role IN ('admin', 'manager', 'agent', 'viewer')),
      password_hash text NOT NULL,
      disabled_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE UNIQUE INDEX app_user_email_uq ON gateway.app_user (lower(email))`);
    await q.query(`CREATE TABLE gateway.team_member (
      team_id uuid NOT NULL REFERENCES gateway.team (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES gateway.app_user (id) ON DELETE CASCADE,
      CONSTRAINT team_member_pk PRIMARY KEY (team_id, user_id))`);
    await q.query(`CREATE INDEX team_member_user_ix ON gateway.team_member (user_id)`);
    await q.query(`CREATE TABLE gateway.auth_session (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES gateway.app_user (id) ON DELETE CASCADE,
      access_hash bytea NOT NULL,
      access_expires_at timestamptz NOT NULL,
      refresh_hash bytea NOT NULL,
      prev_refresh_hash bytea,
      refresh_expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      revoked_at timestamptz)`);
    await q.query(`CREATE UNIQUE INDEX auth_session_access_uq ON gateway.auth_session (access_hash)`);
    await q.query(`CREATE UNIQUE INDEX auth_session_refresh_uq ON gateway.auth_session (refresh_hash)`);
    await q.query(`CREATE INDEX auth_session_prev_refresh_ix ON gateway.auth_session (prev_refresh_hash)`);
    await q.query(`CREATE TABLE gateway.api_key (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      prefix text NOT NULL,
      key_hash bytea NOT NULL,
      scopes text[] NOT NULL,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      last_used_at timestamptz,
      revoked_at timestamptz)`);
    await q.query(`CREATE UNIQUE INDEX api_key_hash_uq ON gateway.api_key (key_hash)`);
    await q.query(`CREATE TABLE gateway.login_failure (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email text NOT NULL,
      ip text NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE INDEX login_failure_email_ix ON gateway.login_failure (email, at)`);
    await q.query(`CREATE INDEX login_failure_ip_ix ON gateway.login_failure (ip, at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['login_failure', 'api_key', 'auth_session', 'team_member', 'app_user', 'team'])
      await q.query(`DROP TABLE gateway.${t}`);
  }
}
