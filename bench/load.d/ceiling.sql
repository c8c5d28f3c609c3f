-- The ceiling for filing (issue 10, target 1): one transaction per filing doing only the writes
-- a filing cannot avoid, on the tables and indexes the server writes:
--   1. pick the least-loaded active official of the ticket's department and lock that one row
--      (SKIP LOCKED: concurrent filings into one department take different officials);
--   2. insert the ticket, with a reference from a sequence (gaps are acceptable), which bumps
--      that official's open-ticket count (the schema's trigger);
--   3. insert its two timeline events (created, assigned);
--   4. insert its two outbox rows (the filer's and the assignee's mail).
-- No reads of the filer, category or department (their ids are passed in), no template
-- rendering, one statement per table. bench/load.d/ceiling_setup.sql creates the bench_ tables.
--
-- Variables passed with -D by bench/load (lists are comma-separated, aligned by position):
--   users, enterprises        the enterprise users who file, and their enterprises
--   departments, categories   each department and the category routed to it
--   sla_hours                 the categories' SLA
--   descr                     the description the HTTP benchmark files
--   subj_len, text_len, html_len  mean sizes of a ticket mail as the server rendered them
\set u random(1, :n_users)
\set d random(1, :n_departments)
BEGIN;
-- If every official of the department is locked by a concurrent filing, wait for the
-- least-loaded one rather than fail (the second subquery only runs when the first finds none).
-- The ticket insert below bumps the official's users.open_tickets through the schema's trigger,
-- exactly as a filing does.
SELECT coalesce(
         (SELECT id FROM users
           WHERE department_id = (string_to_array(CAST(:departments AS TEXT), ','))[CAST(:d AS INTEGER)]
             AND role = 'official' AND active
           ORDER BY open_tickets, id LIMIT 1 FOR UPDATE SKIP LOCKED),
         (SELECT id FROM users
           WHERE department_id = (string_to_array(CAST(:departments AS TEXT), ','))[CAST(:d AS INTEGER)]
             AND role = 'official' AND active
           ORDER BY open_tickets, id LIMIT 1 FOR UPDATE)) AS official_id \gset a_
INSERT INTO tickets (id, reference, title, description, search_text, category_id, department_id,
                     assignee_id, enterprise_id, created_by, priority, status, due_at, created_at,
                     updated_at)
SELECT v.id, v.reference, v.title, v.description,
       lower(v.reference || E'\n' || v.title || E'\n' || v.description),
       (string_to_array(CAST(:categories AS TEXT), ','))[CAST(:d AS INTEGER)],
       (string_to_array(CAST(:departments AS TEXT), ','))[CAST(:d AS INTEGER)],
       :a_official_id,
       (string_to_array(CAST(:enterprises AS TEXT), ','))[CAST(:u AS INTEGER)],
       (string_to_array(CAST(:users AS TEXT), ','))[CAST(:u AS INTEGER)],
       'normal', 'assigned',
       (now() AT TIME ZONE 'UTC') + make_interval(hours => CAST(:sla_hours AS INTEGER)),
       (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')
  FROM (SELECT md5(random()::text || clock_timestamp()::text) AS id,
               'QC' || lpad(CAST(nextval('bench_ticket_reference') AS TEXT), 10, '0') AS reference,
               'Load filing by user ' || CAST(:u AS TEXT) AS title,
               CAST(:descr AS TEXT) AS description) v
RETURNING id \gset t_
INSERT INTO ticket_events (id, ticket_id, kind, actor_id, from_status, to_status, note, internal,
                           created_at)
VALUES (md5(random()::text || clock_timestamp()::text), :t_id, 'created',
        (string_to_array(CAST(:users AS TEXT), ','))[CAST(:u AS INTEGER)], NULL, 'submitted',
        NULL, false, (now() AT TIME ZONE 'UTC')),
       (md5(random()::text || clock_timestamp()::text), :t_id, 'assigned', NULL, 'submitted',
        'assigned', NULL, false, (now() AT TIME ZONE 'UTC'));
INSERT INTO outbox (id, recipient, subject, text_body, html_body, status, attempts,
                    next_attempt_at, created_at)
SELECT md5(random()::text || clock_timestamp()::text || r), r || '@bench.qifu.test',
       repeat('s', CAST(:subj_len AS INTEGER)), repeat('t', CAST(:text_len AS INTEGER)),
       repeat('h', CAST(:html_len AS INTEGER)), 'pending', 0, (now() AT TIME ZONE 'UTC'),
       (now() AT TIME ZONE 'UTC')
  FROM (VALUES ('filer'), ('assignee')) AS recipients (r);
COMMIT;
