-- PostgreSQL already serves `q` from the pg_trgm index of the first migration; this version
-- exists so both backends share one migration history.
SELECT 1;
