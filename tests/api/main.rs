//! HTTP-level tests against the real app. Run against PostgreSQL with
//! `QIFU_TEST_DATABASE_URL=postgres://postgres@127.0.0.1/postgres cargo test`.

mod accounts;
mod admin_console;
mod attachments;
mod browser;
mod browser_admin;
mod browser_dashboard;
mod browser_staff;
mod calendar;
mod console;
mod dashboard;
mod foundation;
mod hardening;
mod helpers;
mod identity;
mod problems;
mod queue;
mod resilience;
mod seed;
mod smtp;
mod stats;
mod stats_rollups;
mod tickets;
