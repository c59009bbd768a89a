//! What a team writes in an entry, how it is checked, and the receipt: the canonical form of a
//! submitted version and the SHA-256 that proves what was submitted.
//!
//! A draft may be incomplete; a submit needs the title, the summary, the description and the
//! maturity (and where it is deployed, for a pilot or a deployed solution).
//!
//! ## The canonical content and its hash
//! The content hash is the SHA-256, in lower-case hex, of this JSON text with no white space,
//! keys in exactly this order and strings as stored (trimmed, NFC):
//!
//! ```text
//! {"problem_code":…,"title":…,"summary":…,"description":…,"maturity":…,"deployed_where":…,
//!  "technologies":…,"experience":…,"demo_url":…,"video_url":…,
//!  "attachments":[{"name":…,"size":…,"sha256":…},…]}
//! ```
//!
//! Attachments are listed in upload order. The receipt carries the entry id, the version, the
//! server's time and this hash; anyone holding the files and the text can recompute it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::account::{Invalid, Problem, required_text};
use super::text;

pub const MAX_TITLE: usize = 200;
pub const MAX_SUMMARY: usize = 1_000;
pub const MAX_DESCRIPTION: usize = 50_000;
pub const MAX_SHORT: usize = 500;
pub const MAX_EXPERIENCE: usize = 5_000;
pub const MAX_URL: usize = 500;
pub const MAX_PRIZE: usize = 200;
pub const MAX_REASON: usize = 1_000;

/// How far the solution has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Maturity {
    Idea,
    Prototype,
    Pilot,
    Deployed,
}

impl Maturity {
    pub const ALL: &'static [Maturity] = &[
        Maturity::Idea,
        Maturity::Prototype,
        Maturity::Pilot,
        Maturity::Deployed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Maturity::Idea => "idea",
            Maturity::Prototype => "prototype",
            Maturity::Pilot => "pilot",
            Maturity::Deployed => "deployed",
        }
    }

    pub fn from_code(s: &str) -> Option<Maturity> {
        Maturity::ALL.iter().copied().find(|m| m.code() == s)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Maturity::Idea => "Ý tưởng",
            Maturity::Prototype => "Sản phẩm mẫu",
            Maturity::Pilot => "Thí điểm",
            Maturity::Deployed => "Đã triển khai",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Maturity::Idea => "Idea",
            Maturity::Prototype => "Prototype",
            Maturity::Pilot => "Pilot",
            Maturity::Deployed => "Deployed",
        }
    }

    fn codes() -> String {
        Maturity::ALL
            .iter()
            .map(|m| m.code())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What a team sends to save a draft: free text, checked by [`EntryText::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryInput {
    pub title: String,
    pub summary: String,
    pub description: String,
    /// A [`Maturity`] code, or empty while undecided.
    pub maturity: String,
    pub deployed_where: String,
    pub technologies: String,
    pub experience: String,
    pub demo_url: String,
    pub video_url: String,
}

/// An entry's text, cleaned (trimmed, NFC) and within limits. Only the title is required in a
/// draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryText {
    pub title: String,
    pub summary: String,
    pub description: String,
    pub maturity: Option<Maturity>,
    pub deployed_where: String,
    pub technologies: String,
    pub experience: String,
    pub demo_url: String,
    pub video_url: String,
}

fn too_long(field: &'static str, max: usize) -> Invalid {
    Invalid {
        field,
        problem: Problem::TooLong(max),
    }
}

/// Optional text: cleaned, within `max` characters. Line breaks are kept when `multiline`.
fn optional(
    field: &'static str,
    value: &str,
    max: usize,
    multiline: bool,
    errors: &mut Vec<Invalid>,
) -> String {
    let v = text::clean(&value.replace("\r\n", "\n"));
    if v.chars().count() > max {
        errors.push(too_long(field, max));
    } else if v
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
    {
        errors.push(Invalid {
            field,
            problem: Problem::NotAllowed("text without control characters".into()),
        });
    }
    v
}

/// An optional http(s) address.
fn url(field: &'static str, value: &str, errors: &mut Vec<Invalid>) -> String {
    let v = text::clean(value);
    if v.is_empty() {
        return v;
    }
    if v.chars().count() > MAX_URL {
        errors.push(too_long(field, MAX_URL));
        return v;
    }
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.split_once("://").is_some_and(|(_, rest)| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && (host.contains('.') || host.starts_with("localhost"))
        })
        && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        errors.push(Invalid {
            field,
            problem: Problem::BadUrl,
        });
    }
    v
}

impl EntryText {
    /// Cleans and checks a draft; every field at fault is reported.
    pub fn parse(input: &EntryInput) -> Result<EntryText, Vec<Invalid>> {
        let mut errors = Vec::new();
        let title = match required_text("title", &input.title, MAX_TITLE) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                String::new()
            }
        };
        let summary = optional("summary", &input.summary, MAX_SUMMARY, true, &mut errors);
        let description = optional(
            "description",
            &input.description,
            MAX_DESCRIPTION,
            true,
            &mut errors,
        );
        let maturity_code = text::clean(&input.maturity).to_lowercase();
        let maturity = if maturity_code.is_empty() {
            None
        } else {
            match Maturity::from_code(&maturity_code) {
                Some(m) => Some(m),
                None => {
                    errors.push(Invalid {
                        field: "maturity",
                        problem: Problem::NotAllowed(Maturity::codes()),
                    });
                    None
                }
            }
        };
        let deployed_where = optional(
            "deployed_where",
            &input.deployed_where,
            MAX_SHORT,
            true,
            &mut errors,
        );
        let technologies = optional(
            "technologies",
            &input.technologies,
            MAX_SHORT,
            true,
            &mut errors,
        );
        let experience = optional(
            "experience",
            &input.experience,
            MAX_EXPERIENCE,
            true,
            &mut errors,
        );
        let demo_url = url("demo_url", &input.demo_url, &mut errors);
        let video_url = url("video_url", &input.video_url, &mut errors);
        if errors.is_empty() {
            Ok(EntryText {
                title,
                summary,
                description,
                maturity,
                deployed_where,
                technologies,
                experience,
                demo_url,
                video_url,
            })
        } else {
            Err(errors)
        }
    }

    /// What a submit needs beyond a valid draft.
    pub fn check_complete(&self) -> Result<(), Vec<Invalid>> {
        let required = |field| Invalid {
            field,
            problem: Problem::Required,
        };
        let mut errors = Vec::new();
        if self.summary.is_empty() {
            errors.push(required("summary"));
        }
        if self.description.is_empty() {
            errors.push(required("description"));
        }
        match self.maturity {
            None => errors.push(required("maturity")),
            Some(Maturity::Pilot | Maturity::Deployed) if self.deployed_where.is_empty() => {
                errors.push(required("deployed_where"))
            }
            Some(_) => {}
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// An attachment as it enters the canonical content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub name: String,
    pub size: i64,
    pub sha256: String,
}

/// A submitted version's content, in canonical key order (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canonical {
    pub problem_code: String,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub maturity: String,
    pub deployed_where: String,
    pub technologies: String,
    pub experience: String,
    pub demo_url: String,
    pub video_url: String,
    pub attachments: Vec<AttachmentRef>,
}

impl Canonical {
    pub fn new(problem_code: &str, text: &EntryText, attachments: Vec<AttachmentRef>) -> Canonical {
        Canonical {
            problem_code: problem_code.to_owned(),
            title: text.title.clone(),
            summary: text.summary.clone(),
            description: text.description.clone(),
            maturity: text.maturity.map(Maturity::code).unwrap_or("").to_owned(),
            deployed_where: text.deployed_where.clone(),
            technologies: text.technologies.clone(),
            experience: text.experience.clone(),
            demo_url: text.demo_url.clone(),
            video_url: text.video_url.clone(),
            attachments,
        }
    }

    /// The canonical JSON text (compact; serde keeps the declared key order).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// SHA-256 over the canonical JSON, lower-case hex.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.to_json().as_bytes()))
    }
}

/// The prize is required to award an entry, and only then.
pub fn check_prize(
    to: super::entry::EntryStatus,
    prize: Option<&str>,
) -> Result<Option<String>, Invalid> {
    let prize = prize.map(text::clean).filter(|p| !p.is_empty());
    match (to, prize) {
        (super::entry::EntryStatus::Awarded, None) => Err(Invalid {
            field: "prize",
            problem: Problem::Required,
        }),
        (super::entry::EntryStatus::Awarded, Some(p)) if p.chars().count() > MAX_PRIZE => {
            Err(too_long("prize", MAX_PRIZE))
        }
        (super::entry::EntryStatus::Awarded, Some(p)) => Ok(Some(p)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn full() -> EntryInput {
        EntryInput {
            title: " Nền tảng số hoá hồ sơ ".into(),
            summary: "Tóm tắt".into(),
            description: "## Mô tả\n\nChi tiết".into(),
            maturity: "pilot".into(),
            deployed_where: "UBND tỉnh Nghệ An".into(),
            technologies: "Rust, PostgreSQL".into(),
            experience: "5 năm".into(),
            demo_url: "https://demo.example.vn/app".into(),
            video_url: String::new(),
        }
    }

    #[test]
    fn a_full_entry_parses_and_is_complete() {
        let t = EntryText::parse(&full()).expect("valid");
        assert_eq!(t.title, "Nền tảng số hoá hồ sơ");
        assert_eq!(t.maturity, Some(Maturity::Pilot));
        assert!(t.check_complete().is_ok());
    }

    #[test]
    fn a_draft_needs_only_a_title_but_a_submit_needs_more() {
        let draft = EntryInput {
            title: "Ý tưởng".into(),
            ..EntryInput::default()
        };
        let t = EntryText::parse(&draft).expect("a draft");
        let fields: Vec<_> = t
            .check_complete()
            .unwrap_err()
            .iter()
            .map(|i| i.field)
            .collect();
        assert_eq!(fields, ["summary", "description", "maturity"]);
        let pilot = EntryText {
            maturity: Some(Maturity::Deployed),
            deployed_where: String::new(),
            ..EntryText::parse(&full()).expect("valid")
        };
        assert_eq!(
            pilot.check_complete().unwrap_err()[0].field,
            "deployed_where"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = EntryInput {
            title: String::new(),
            summary: "x".repeat(MAX_SUMMARY + 1),
            maturity: "done".into(),
            demo_url: "javascript:alert(1)".into(),
            video_url: "ftp://x.vn".into(),
            technologies: "a\u{7}b".into(),
            ..full()
        };
        let fields: Vec<_> = EntryText::parse(&bad)
            .unwrap_err()
            .iter()
            .map(|i| i.field)
            .collect();
        assert_eq!(
            fields,
            [
                "title",
                "summary",
                "maturity",
                "technologies",
                "demo_url",
                "video_url"
            ]
        );
    }

    #[test]
    fn the_canonical_hash_is_stable_and_sensitive() {
        let t = EntryText::parse(&full()).expect("valid");
        let att = vec![AttachmentRef {
            name: "a.pdf".into(),
            size: 10,
            sha256: "ab".repeat(32),
        }];
        let c = Canonical::new("BT-01", &t, att.clone());
        assert!(
            c.to_json()
                .starts_with("{\"problem_code\":\"BT-01\",\"title\":")
        );
        assert_eq!(
            c.sha256(),
            Canonical::new("BT-01", &t, att.clone()).sha256()
        );
        assert_eq!(c.sha256().len(), 64);
        let mut other = att;
        other[0].sha256 = "cd".repeat(32);
        assert_ne!(c.sha256(), Canonical::new("BT-01", &t, other).sha256());
    }

    #[test]
    fn awarding_needs_a_prize() {
        use super::super::entry::EntryStatus as S;
        assert_eq!(check_prize(S::Awarded, None).unwrap_err().field, "prize");
        assert_eq!(
            check_prize(S::Awarded, Some("  ")).unwrap_err().field,
            "prize"
        );
        assert_eq!(
            check_prize(S::Awarded, Some(" Giải Nhất ")).expect("ok"),
            Some("Giải Nhất".into())
        );
        assert_eq!(check_prize(S::Finalist, Some("x")).expect("ok"), None);
    }

    proptest! {
        /// Parsing never panics, and what it accepts is already clean: parsing it again gives
        /// the same text.
        #[test]
        fn parse_is_idempotent(title in "\\PC{0,30}", summary in "\\PC{0,30}", url in "\\PC{0,20}") {
            let input = EntryInput { title, summary, demo_url: url, ..EntryInput::default() };
            if let Ok(t) = EntryText::parse(&input) {
                let again = EntryInput {
                    title: t.title.clone(),
                    summary: t.summary.clone(),
                    demo_url: t.demo_url.clone(),
                    ..EntryInput::default()
                };
                prop_assert_eq!(EntryText::parse(&again).expect("still valid"), t);
            }
        }
    }
}
