CREATE TABLE departments (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE categories (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    department_id TEXT NOT NULL REFERENCES departments(id),
    sla_hours INTEGER NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX categories_department ON categories(department_id);

CREATE TABLE enterprises (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    address TEXT,
    industry TEXT,
    contact_phone TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX enterprises_created ON enterprises(created_at, id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    enterprise_id TEXT REFERENCES enterprises(id),
    department_id TEXT REFERENCES departments(id),
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    locale TEXT NOT NULL DEFAULT 'zh-CN',
    last_assigned_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_department_role ON users(department_id, role, active);
CREATE INDEX users_enterprise ON users(enterprise_id);
CREATE INDEX users_role ON users(role, created_at, id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

CREATE TABLE password_resets (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX password_resets_user ON password_resets(user_id);

CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    lockouts INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    search_text TEXT NOT NULL,
    category_id TEXT NOT NULL REFERENCES categories(id),
    department_id TEXT REFERENCES departments(id),
    assignee_id TEXT REFERENCES users(id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
    created_by TEXT NOT NULL REFERENCES users(id),
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    overdue_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    resolved_at TIMESTAMP,
    closed_at TIMESTAMP,
    cancelled_at TIMESTAMP,
    resolution TEXT,
    rating INTEGER,
    feedback TEXT,
    auto_closed BOOLEAN NOT NULL DEFAULT FALSE,
    reopen_count INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX tickets_department_created ON tickets(department_id, created_at, id);
CREATE INDEX tickets_assignee_status ON tickets(assignee_id, status);
CREATE INDEX tickets_enterprise_created ON tickets(enterprise_id, created_at, id);
CREATE INDEX tickets_created ON tickets(created_at, id);
CREATE INDEX tickets_category_created ON tickets(category_id, created_at);
CREATE INDEX tickets_open_due ON tickets(due_at) WHERE status IN ('submitted', 'assigned', 'in_progress');
CREATE INDEX tickets_department_open_due ON tickets(department_id, due_at) WHERE status IN ('submitted', 'assigned', 'in_progress');
CREATE INDEX tickets_resolved ON tickets(resolved_at) WHERE status = 'resolved';

CREATE TABLE ticket_events (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL,
    actor_id TEXT REFERENCES users(id),
    from_status TEXT,
    to_status TEXT,
    note TEXT,
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);

CREATE TABLE comments (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    author_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX comments_ticket ON comments(ticket_id, id);
CREATE INDEX comments_kind_ticket ON comments(kind, ticket_id);

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

CREATE TABLE reference_counters (
    day TEXT PRIMARY KEY NOT NULL,
    last INTEGER NOT NULL
);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_created ON outbox(created_at, id);

-- Substring search (`q`) over reference, title and description, Chinese included: trigram GIN.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tickets_search_trgm ON tickets USING gin (search_text gin_trgm_ops);
