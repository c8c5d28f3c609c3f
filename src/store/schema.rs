// One schema for both backends: only types they share (text ids, naive UTC timestamps).
diesel::table! {
    departments (id) {
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    categories (id) {
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        department_id -> Text,
        sla_hours -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sla_working_days -> Nullable<Integer>,
    }
}

diesel::table! {
    enterprises (id) {
        id -> Text,
        name -> Text,
        credit_code -> Text,
        address -> Nullable<Text>,
        industry -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        status_reason -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        enterprise_id -> Nullable<Text>,
        department_id -> Nullable<Text>,
        password_hash -> Text,
        active -> Bool,
        locale -> Text,
        last_assigned_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        credentials_changed_at -> Nullable<Timestamp>,
        email_verified -> Bool,
        enterprise_role -> Nullable<Text>,
        open_tickets -> Integer,
    }
}

diesel::table! {
    enterprise_events (id) {
        id -> Text,
        enterprise_id -> Text,
        kind -> Text,
        actor_id -> Nullable<Text>,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    email_verifications (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        enterprise_id -> Text,
        email -> Text,
        name -> Nullable<Text>,
        token_hash -> Text,
        invited_by -> Text,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        kind -> Text,
        last_seen_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_resets (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_start -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        lockouts -> Integer,
    }
}

diesel::table! {
    tickets (id) {
        id -> Text,
        reference -> Text,
        title -> Text,
        description -> Text,
        search_text -> Text,
        category_id -> Text,
        department_id -> Nullable<Text>,
        assignee_id -> Nullable<Text>,
        enterprise_id -> Text,
        created_by -> Text,
        priority -> Text,
        status -> Text,
        due_at -> Timestamp,
        overdue_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        resolution -> Nullable<Text>,
        rating -> Nullable<Integer>,
        feedback -> Nullable<Text>,
        auto_closed -> Bool,
        reopen_count -> Integer,
        version -> Integer,
        awaiting_since -> Nullable<Timestamp>,
        warn_at -> Nullable<Timestamp>,
        warned_for -> Nullable<Timestamp>,
        escalated_for -> Nullable<Timestamp>,
    }
}

diesel::table! {
    calendar_days (date) {
        date -> Text,
        kind -> Text,
        name -> Text,
    }
}

diesel::table! {
    ticket_extensions (id) {
        id -> Text,
        ticket_id -> Text,
        working_days -> Integer,
        reason -> Text,
        status -> Text,
        requested_by -> Text,
        decided_by -> Nullable<Text>,
        decision_note -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ticket_events (id) {
        id -> Text,
        ticket_id -> Text,
        kind -> Text,
        actor_id -> Nullable<Text>,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        note -> Nullable<Text>,
        internal -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comments (id) {
        id -> Text,
        ticket_id -> Text,
        author_id -> Text,
        kind -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        request_hash -> Text,
        response_status -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reference_counters (day) {
        day -> Text,
        last -> Integer,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        recipient -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        secret -> Bool,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        ticket_id -> Text,
        comment_id -> Nullable<Text>,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        internal -> Bool,
        uploaded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(categories -> departments (department_id));
diesel::joinable!(tickets -> categories (category_id));
diesel::joinable!(tickets -> enterprises (enterprise_id));
diesel::joinable!(ticket_events -> tickets (ticket_id));
diesel::joinable!(comments -> tickets (ticket_id));
diesel::joinable!(attachments -> tickets (ticket_id));
diesel::joinable!(ticket_extensions -> tickets (ticket_id));

diesel::allow_tables_to_appear_in_same_query!(
    departments,
    categories,
    enterprises,
    users,
    refresh_tokens,
    password_resets,
    login_throttle,
    tickets,
    ticket_events,
    comments,
    idempotency_keys,
    reference_counters,
    outbox,
    sessions,
    attachments,
    calendar_days,
    ticket_extensions,
    enterprise_events,
    email_verifications,
    invitations,
);
