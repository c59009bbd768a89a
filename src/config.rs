//! Settings: `config/default.toml` (compiled in), then an optional file, then `DXCONTEST_`
//! environment variables with `__` for nesting. A bad value stops the start with an error naming
//! the key and where the value came from.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

/// The defaults, compiled into the binary so it runs from any folder.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub problems: ProblemsConfig,
    pub contest: ContestConfig,
    pub accounts: AccountsConfig,
    pub teams: TeamsConfig,
    pub timeline: TimelineConfig,
    pub entries: EntriesConfig,
    pub rate_limits: RateLimitConfig,
    pub mail: MailConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub public_base_url: String,
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
    pub busy_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProblemsConfig {
    pub dir: PathBuf,
    pub import_on_first_start: bool,
    pub refresh_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContestConfig {
    pub name_vi: String,
    pub name_en: String,
    pub timezone: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsConfig {
    pub session_days: u32,
    pub verify_link_hours: u32,
    pub reset_link_minutes: u32,
    pub invitation_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamsConfig {
    pub min_size: u32,
    pub max_size: u32,
}

/// An instant written in RFC 3339 with an offset (`2027-03-31T17:00:00+07:00`), held as
/// milliseconds UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigInstant(pub i64);

impl<'de> Deserialize<'de> for ConfigInstant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::domain::time::Millis::parse_rfc3339(&s)
            .map(|m| ConfigInstant(m.0))
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "`{s}` is not an RFC 3339 time with an offset, e.g. 2027-03-31T17:00:00+07:00"
                ))
            })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineConfig {
    pub registration_opens: ConfigInstant,
    pub registration_closes: ConfigInstant,
    pub submission_opens: ConfigInstant,
    pub submission_deadline: ConfigInstant,
    pub grace_minutes: u32,
}

impl TimelineConfig {
    pub fn timeline(
        &self,
    ) -> Result<crate::domain::timeline::Timeline, crate::domain::account::Invalid> {
        crate::domain::timeline::Timeline::new(
            self.registration_opens.0,
            self.registration_closes.0,
            self.submission_opens.0,
            self.submission_deadline.0,
            i64::from(self.grace_minutes) * 60_000,
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntriesConfig {
    pub max_problems_per_team: u32,
    pub max_file_mb: u64,
    pub max_entry_mb: u64,
    pub storage_dir: PathBuf,
}

impl EntriesConfig {
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_mb.saturating_mul(1024 * 1024)
    }
    pub fn max_entry_bytes(&self) -> u64 {
        self.max_entry_mb.saturating_mul(1024 * 1024)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub window_secs: u64,
    pub login_per_ip: u32,
    pub login_per_account: u32,
    pub register_per_ip: u32,
    pub reset_per_ip: u32,
    pub reset_per_account: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    File,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    pub transport: MailTransport,
    pub file_dir: PathBuf,
    pub from: String,
    pub dispatcher: DispatcherConfig,
    pub smtp: SmtpConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatcherConfig {
    pub enabled: bool,
    pub poll_interval_ms: u64,
    pub batch_size: u32,
    pub lease_secs: u64,
    pub max_attempts: u32,
    pub backoff_base_secs: u64,
    pub max_backoff_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: String,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}", describe(.0))]
    Figment(Box<figment::Error>),
    #[error("configuration: key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("configuration: cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One line per problem: the key in config-file form, where its value came from, and what is wrong.
fn describe(err: &figment::Error) -> String {
    err.clone()
        .into_iter()
        .map(|e| {
            let key = e.path.join(".").to_lowercase();
            let source = match &e.metadata {
                Some(m) if m.name.contains("environment") => {
                    format!(
                        "environment variable DXCONTEST_{}",
                        e.path.join("__").to_uppercase()
                    )
                }
                Some(m) => match &m.source {
                    Some(src) => src.to_string(),
                    None => "built-in config/default.toml".to_owned(),
                },
                None => "an unknown source".to_owned(),
            };
            if key.is_empty() {
                format!("configuration ({source}): {}", e.kind)
            } else {
                format!("configuration: key `{key}` (from {source}): {}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Config {
    /// Loads the defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::figment(file)?.extract_config()
    }

    /// The layered sources, for callers (tests) that add their own on top.
    pub fn figment(file: Option<&Path>) -> Result<Figment, ConfigError> {
        let mut fig = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                });
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        Ok(fig.merge(Env::prefixed("DXCONTEST_").split("__")))
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.to_owned(),
            })
        };
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return invalid("database.url", "must start with sqlite:// or postgres://");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be at least 1");
        }
        let base = &self.server.public_base_url;
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.ends_with('/') {
            return invalid(
                "server.public_base_url",
                "must be an http(s) URL without a trailing slash",
            );
        }
        if self.contest.timezone != "Asia/Ho_Chi_Minh" {
            return invalid(
                "contest.timezone",
                "only Asia/Ho_Chi_Minh (UTC+7, no daylight saving) is supported",
            );
        }
        if self.teams.min_size == 0 || self.teams.min_size > self.teams.max_size {
            return invalid(
                "teams.min_size",
                "must be at least 1 and at most teams.max_size",
            );
        }
        if self.rate_limits.window_secs == 0 {
            return invalid("rate_limits.window_secs", "must be at least 1");
        }
        if let Err(e) = self.timeline.timeline() {
            let key = match e.field {
                "registration_closes" => "timeline.registration_closes",
                "submission_deadline" => "timeline.submission_deadline",
                "submission_opens" => "timeline.submission_opens",
                _ => "timeline.grace_minutes",
            };
            return Err(ConfigError::Invalid {
                key,
                message: format!("must be {}", describe_order(&e)),
            });
        }
        if self.entries.max_problems_per_team == 0 {
            return invalid("entries.max_problems_per_team", "must be at least 1");
        }
        if self.entries.max_file_mb == 0 || self.entries.max_file_mb > self.entries.max_entry_mb {
            return invalid(
                "entries.max_file_mb",
                "must be at least 1 and at most entries.max_entry_mb",
            );
        }
        if self.problems.refresh_secs == 0 {
            return invalid("problems.refresh_secs", "must be at least 1");
        }
        Ok(())
    }
}

fn describe_order(e: &crate::domain::account::Invalid) -> String {
    use crate::domain::account::Problem;
    match &e.problem {
        Problem::After(other) => format!("later than timeline.{other}"),
        Problem::NotBefore(other) => format!("no earlier than timeline.{other}"),
        Problem::NotAfter(other) => format!("no later than timeline.{other}"),
        Problem::Range(lo, hi) => format!("from {lo} to {hi}"),
        other => other.message(false),
    }
}

/// Extracting with validation, for any figment.
pub trait ExtractConfig {
    fn extract_config(&self) -> Result<Config, ConfigError>;
}

impl ExtractConfig for Figment {
    fn extract_config(&self) -> Result<Config, ConfigError> {
        let config: Config = self
            .extract()
            .map_err(|e| ConfigError::Figment(Box::new(e)))?;
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_validate() {
        let c = Figment::from(Toml::string(DEFAULT_TOML))
            .extract_config()
            .expect("defaults are valid");
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database.url, "sqlite://data/dxcontest.db");
        assert_eq!(c.mail.transport, MailTransport::File);
    }

    #[test]
    fn bad_value_names_key_and_source() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("my.toml");
        std::fs::write(&file, "[server]\nlisten = \"not-an-address\"\n").expect("write");
        let msg = Config::figment(Some(&file))
            .expect("file exists")
            .extract_config()
            .expect_err("bad listen")
            .to_string();
        assert!(msg.contains("server.listen"), "{msg}");
        assert!(msg.contains("my.toml"), "{msg}");
    }

    #[test]
    fn semantic_checks_name_the_key() {
        let fig = Figment::from(Toml::string(DEFAULT_TOML))
            .merge(Toml::string("[database]\nurl = \"mysql://x\""));
        let msg = fig.extract_config().expect_err("bad url").to_string();
        assert!(msg.contains("database.url"), "{msg}");
    }

    #[test]
    fn timeline_times_and_order_are_checked() {
        let fig = Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(
            "[timeline]\nsubmission_deadline = \"31/03/2027\"",
        ));
        let msg = fig.extract_config().expect_err("bad time").to_string();
        assert!(msg.contains("timeline.submission_deadline"), "{msg}");
        assert!(msg.contains("RFC 3339"), "{msg}");
        let fig = Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(
            "[timeline]\nsubmission_deadline = \"2020-01-01T00:00:00+07:00\"",
        ));
        let msg = fig
            .extract_config()
            .expect_err("deadline first")
            .to_string();
        assert!(msg.contains("timeline.submission_deadline"), "{msg}");
    }
}
