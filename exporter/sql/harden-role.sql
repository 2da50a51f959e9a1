-- Hardening shared by the read-only roles (role.sql: opswatch_reader; grafana-role.sql:
-- opswatch_grafana). Not run on its own: the role scripts include it with the psql variable
-- role_name set, as the database owner (or a superuser), in the app's database.
--
-- What the server enforces after this, whatever the role's session does:
--   * no writes: the role owns nothing and holds no INSERT/UPDATE/DELETE/TRUNCATE, no CREATE on
--     the database or on schema public, no TEMPORARY on the database (so no temp tables and no
--     pg_temp functions), no EXECUTE on the large-object functions that create or change large
--     objects, and no membership in any role (pg_read_all_data, pg_write_all_data, ...);
--   * no other database: CONNECT on template1 is revoked from PUBLIC, and likewise on every
--     database named in the psql variable other_databases (comma-separated);
--   * temp_file_limit (a superuser-only parameter: the role cannot raise it) and at most
--     connection_limit connections.
-- What the role can still change in its own session (PostgreSQL lets any role SET a
-- user-context parameter, and GRANT SET cannot take that away): default_transaction_read_only
-- and statement_timeout. The role-level values below are the defaults of every new session;
-- with no write privilege, turning read-only off lets no write through, but a statement
-- without a timeout can run long. The exporter sets its own timeout per statement; for
-- Grafana, see the README's Security section (pgBouncer query_timeout, a read replica).
--
-- PUBLIC-wide changes (the only way to take from one role what PUBLIC holds): TEMPORARY on this
-- database and EXECUTE on the large-object writers are revoked from PUBLIC and granted back to
-- the database owner. Superusers keep everything. Another non-owner role of the app that needs
-- temporary tables or large objects must be granted them explicitly.

\if :{?role_name}
\else
  \echo 'harden-role.sql: include it from role.sql or grafana-role.sql (role_name is not set)'
  \quit
\endif
\if :{?connection_limit}
\else
  \set connection_limit 4
\endif

SELECT format('ALTER ROLE %I NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT CONNECTION LIMIT %s',
              :'role_name', :'connection_limit') \gexec

-- No role memberships at all: pg_read_all_data would bypass the column grants, pg_write_*
-- and pg_execute_server_program would write.
SELECT format('REVOKE %I FROM %I', granted.rolname, :'role_name')
FROM pg_auth_members m
JOIN pg_roles granted ON granted.oid = m.roleid
JOIN pg_roles member ON member.oid = m.member
WHERE member.rolname = :'role_name' \gexec

-- Session defaults: each new session starts read-only with a statement timeout.
SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', :'role_name') \gexec
SELECT format('ALTER ROLE %I SET statement_timeout = %L', :'role_name', '15s') \gexec
SELECT format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', :'role_name', '60s') \gexec
-- Superuser-context parameters: set per role by a superuser, the role cannot change them.
-- (Skipped where the owner may not set them, as on Supabase, whose postgres is no superuser.)
SELECT format('ALTER ROLE %I SET temp_file_limit = %L', :'role_name', '64MB')
WHERE (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) \gexec
SELECT format('ALTER ROLE %I SET log_min_duration_statement = %L', :'role_name', '15s')
WHERE (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) \gexec

-- No writes in this database.
SELECT format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), :'role_name') \gexec
SELECT format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT TEMPORARY ON DATABASE %I TO %I', current_database(), pg_get_userbyid(datdba))
FROM pg_database WHERE datname = current_database() \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'role_name') \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Large objects live outside every table grant: lo_from_bytea, lo_creat and lo_create store
-- one, lo_put, lowrite and lo_truncate change one, lo_unlink removes one. (lo_import and
-- lo_export are superuser-only already.)
SELECT format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', p.oid::regprocedure)
FROM pg_proc p
WHERE p.pronamespace = 'pg_catalog'::regnamespace
  AND p.proname IN ('lo_from_bytea', 'lo_creat', 'lo_create', 'lo_put', 'lowrite', 'lo_truncate', 'lo_truncate64', 'lo_unlink') \gexec
SELECT format('GRANT EXECUTE ON FUNCTION %s TO %I', p.oid::regprocedure, pg_get_userbyid(d.datdba))
FROM pg_proc p, pg_database d
WHERE d.datname = current_database()
  AND p.pronamespace = 'pg_catalog'::regnamespace
  AND p.proname IN ('lo_from_bytea', 'lo_creat', 'lo_create', 'lo_put', 'lowrite', 'lo_truncate', 'lo_truncate64', 'lo_unlink') \gexec

-- No other database. template1 holds nothing anyone needs to connect to (CREATE DATABASE copies
-- it without connecting); other databases only when named, because CONNECT comes from PUBLIC
-- and revoking it there concerns every role of the cluster.
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
\if :{?other_databases}
SELECT format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', d.datname)
FROM pg_database d
WHERE d.datname = ANY (string_to_array(:'other_databases', ','))
  AND d.datname <> current_database() \gexec
SELECT format('REVOKE CONNECT ON DATABASE %I FROM %I', d.datname, :'role_name')
FROM pg_database d
WHERE d.datname = ANY (string_to_array(:'other_databases', ','))
  AND d.datname <> current_database() \gexec
\endif
