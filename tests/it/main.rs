//! Integration tests: the real server on a random port, on SQLite and (with TEST_POSTGRES_URL) on
//! PostgreSQL; pages in a real headless Chromium.

mod common;

mod accounts;
mod admin;
mod authz;
mod browser;
mod catalog_api;
mod cli;
mod entries;
mod import;
mod mail;
mod migrations;
mod pages;
mod teams;
mod web_accounts;
mod web_entries;
mod web_timeline;
