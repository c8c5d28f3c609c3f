-- pgbench mirror of one ticket filing (POST /api/v1/tickets by an enterprise user whose
-- ticket is routed to an official), statement for statement as the server issues them in
-- src/service/tickets.rs `create` (store/tickets.rs, store/users.rs, store/departments.rs,
-- service/notify.rs, store/outbox.rs), in one transaction, on the fixture bench/load built.
--
-- Variables passed with -D by bench/load:
--   users     comma-separated ids of the 32 enterprise users (the filer is chosen at random)
--   category  the fixture category id
--   day       the reference day (YYMMDD in stats.time_zone), the counter row the server uses
--   descr     the description the HTTP benchmark files
--   subj_len, text_len, html_len  mean sizes of a ticket mail as the server rendered them
-- Differences from the server, all in the ceiling's favour: the routing choice
-- (domain::routing::choose, done in Rust) is an ORDER BY ... LIMIT 1 over the same candidate
-- query; the new ids are made in SQL and read back with RETURNING instead of in Rust; mail
-- bodies are filler of the rendered size (no template rendering); no HTTP, JSON, JWT.
\set r random(1, 32)
BEGIN;
-- service::auth::load_actor -> users::find_with_enterprise_status
SELECT users.id, users.email, users.name, users.role, users.enterprise_id, users.department_id,
       users.password_hash, users.active, users.locale, users.last_assigned_at, users.created_at,
       users.updated_at, enterprises.status
  FROM users LEFT OUTER JOIN enterprises ON users.enterprise_id = enterprises.id
 WHERE users.id = (string_to_array(CAST(:users AS TEXT), ','))[CAST(:r AS INTEGER)] LIMIT 1 \gset u_
-- departments::find_category
SELECT categories.id, categories.name, categories.description, categories.department_id,
       categories.sla_hours, categories.active, categories.created_at, categories.updated_at
  FROM categories WHERE categories.id = :category LIMIT 1 \gset c_
-- route -> store::tickets::routing_candidates (PostgreSQL: lock the officials first)
SELECT id FROM users WHERE department_id = :c_department_id AND role = 'official' AND active ORDER BY id FOR UPDATE;
SELECT id, last_assigned_at, open_tickets FROM (
  SELECT u.id AS id, u.last_assigned_at AS last_assigned_at, u.created_at AS created_at,
         (SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = u.id
            AND t.status IN ('assigned', 'in_progress')) AS open_tickets
    FROM users u WHERE u.department_id = :c_department_id AND u.role = 'official' AND u.active
   ORDER BY u.created_at, u.id) candidates
 ORDER BY open_tickets, last_assigned_at NULLS FIRST, created_at, id LIMIT 1 \gset a_
-- users::set_last_assigned
UPDATE users SET last_assigned_at = (now() AT TIME ZONE 'UTC') WHERE users.id = :a_id;
-- store::tickets::next_reference_number
INSERT INTO reference_counters (day, last) VALUES (:day, 1)
  ON CONFLICT (day) DO UPDATE SET last = reference_counters.last + 1
  RETURNING CAST(last AS BIGINT) AS last \gset ref_
-- store::tickets::insert
INSERT INTO tickets (id, reference, title, description, search_text, category_id, department_id,
                     assignee_id, enterprise_id, created_by, priority, status, due_at, created_at,
                     updated_at)
SELECT v.id, v.reference, v.title, v.description,
       lower(v.reference || E'\n' || v.title || E'\n' || v.description),
       :c_id, :c_department_id, :a_id, :u_enterprise_id, :u_id, 'normal', 'assigned',
       (now() AT TIME ZONE 'UTC') + make_interval(hours => CAST(:c_sla_hours AS INTEGER)),
       (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')
  FROM (SELECT lpad(to_hex(CAST(extract(epoch FROM clock_timestamp()) * 1000000 AS BIGINT)), 14, '0')
                 || substr(md5(random()::text), 1, 18) AS id,
               'QF' || :day || '-' || lpad(CAST(:ref_last AS TEXT), greatest(4, length(CAST(:ref_last AS TEXT))), '0') AS reference,
               'Load filing by user ' || CAST(:r AS TEXT) AS title,
               CAST(:descr AS TEXT) AS description) v
RETURNING id \gset t_
-- store::tickets::insert_event (created)
INSERT INTO ticket_events (id, ticket_id, kind, actor_id, from_status, to_status, note, internal, created_at)
VALUES (lpad(to_hex(CAST(extract(epoch FROM clock_timestamp()) * 1000000 AS BIGINT)), 14, '0') || substr(md5(random()::text), 1, 18),
        :t_id, 'created', :u_id, NULL, 'submitted', NULL, false, (now() AT TIME ZONE 'UTC'));
-- store::tickets::find (the filed ticket, read back)
SELECT tickets.id, tickets.reference, tickets.title, tickets.description, tickets.search_text,
       tickets.category_id, tickets.department_id, tickets.assignee_id, tickets.enterprise_id,
       tickets.created_by, tickets.priority, tickets.status, tickets.due_at, tickets.overdue_at,
       tickets.created_at, tickets.updated_at, tickets.accepted_at, tickets.resolved_at,
       tickets.closed_at, tickets.cancelled_at, tickets.resolution, tickets.rating,
       tickets.feedback, tickets.auto_closed, tickets.reopen_count, tickets.version
  FROM tickets WHERE tickets.id = :t_id LIMIT 1;
-- store::tickets::insert_event (assigned)
INSERT INTO ticket_events (id, ticket_id, kind, actor_id, from_status, to_status, note, internal, created_at)
VALUES (lpad(to_hex(CAST(extract(epoch FROM clock_timestamp()) * 1000000 AS BIGINT)), 14, '0') || substr(md5(random()::text), 1, 18),
        :t_id, 'assigned', NULL, 'submitted', 'assigned', NULL, false, (now() AT TIME ZONE 'UTC'));
-- notify::send (Assigned): recipients = the filer and the assignee (users::find each)
SELECT users.id, users.email, users.name, users.role, users.enterprise_id, users.department_id,
       users.password_hash, users.active, users.locale, users.last_assigned_at, users.created_at,
       users.updated_at FROM users WHERE users.id = :u_id LIMIT 1;
SELECT users.id, users.email, users.name, users.role, users.enterprise_id, users.department_id,
       users.password_hash, users.active, users.locale, users.last_assigned_at, users.created_at,
       users.updated_at FROM users WHERE users.id = :a_id LIMIT 1 \gset b_
-- Notifier::queue for the filer: assignee name, department name, outbox::enqueue
SELECT users.id, users.email, users.name, users.role, users.enterprise_id, users.department_id,
       users.password_hash, users.active, users.locale, users.last_assigned_at, users.created_at,
       users.updated_at FROM users WHERE users.id = :a_id LIMIT 1;
SELECT departments.id, departments.name, departments.description, departments.active,
       departments.created_at, departments.updated_at
  FROM departments WHERE departments.id = :c_department_id LIMIT 1;
INSERT INTO outbox (id, recipient, subject, text_body, html_body, status, attempts, next_attempt_at, created_at)
VALUES (lpad(to_hex(CAST(extract(epoch FROM clock_timestamp()) * 1000000 AS BIGINT)), 14, '0') || substr(md5(random()::text), 1, 18),
        :u_email, repeat('s', CAST(:subj_len AS INTEGER)), repeat('t', CAST(:text_len AS INTEGER)),
        repeat('h', CAST(:html_len AS INTEGER)), 'pending', 0, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'));
-- Notifier::queue for the assignee
SELECT users.id, users.email, users.name, users.role, users.enterprise_id, users.department_id,
       users.password_hash, users.active, users.locale, users.last_assigned_at, users.created_at,
       users.updated_at FROM users WHERE users.id = :a_id LIMIT 1;
SELECT departments.id, departments.name, departments.description, departments.active,
       departments.created_at, departments.updated_at
  FROM departments WHERE departments.id = :c_department_id LIMIT 1;
INSERT INTO outbox (id, recipient, subject, text_body, html_body, status, attempts, next_attempt_at, created_at)
VALUES (lpad(to_hex(CAST(extract(epoch FROM clock_timestamp()) * 1000000 AS BIGINT)), 14, '0') || substr(md5(random()::text), 1, 18),
        :b_email, repeat('s', CAST(:subj_len AS INTEGER)), repeat('t', CAST(:text_len AS INTEGER)),
        repeat('h', CAST(:html_len AS INTEGER)), 'pending', 0, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'));
COMMIT;
