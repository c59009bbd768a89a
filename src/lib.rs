//! dxcontest: runs national solution contests (problems, teams, entries, judging, results).
//!
//! Layers, top to bottom: `api` and `web` (HTTP) → `service` (use cases) → `store` (SQL), `mail`
//! and `files` (attachment storage) → `domain` (pure logic). `app` wires them together; `main.rs` is only the CLI.

pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod files;
pub mod i18n;
pub mod listener;
pub mod mail;
pub mod service;
pub mod store;
pub mod web;
