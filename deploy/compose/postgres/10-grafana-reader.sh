#!/bin/sh
# Run by the postgres image once, when it creates the data directory: a read-only role for
# Grafana's PostgreSQL datasource. Grafana runs whatever SQL a dashboard editor types, so it gets
# SELECT and nothing else. wedwatch creates its tables later (migrations at start), hence default
# privileges for the tables the wedwatch role will create, not grants on existing ones.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set owner="$POSTGRES_USER" --set db="$POSTGRES_DB" --set reader_password="$GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE grafana_reader LOGIN PASSWORD :'reader_password';
GRANT CONNECT ON DATABASE :"db" TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
SQL
