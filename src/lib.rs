//! Qifu (企服): enterprise service ticketing. See ARCHITECTURE.md for the map.

pub mod auth;
pub mod blobs;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod files;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod os;
pub mod seed;
pub mod service;
pub mod startup;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod web;
