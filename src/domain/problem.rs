//! Problem statements ("bài toán"): the fixed field and group lists, the statement type, and the
//! parser for the `problems/` file format (TOML front matter between `+++` lines, then Markdown).
//!
//! Parsing is pure: the caller reads the file and passes its name and text. Every error names the
//! file, the line and the field, so an organizer can fix a statement without guessing.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::text;

/// Longest accepted title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest accepted single-line value (agency, market users/unit, code), in characters.
pub const MAX_LINE_CHARS: usize = 300;
/// Longest accepted paragraph field, in characters.
pub const MAX_PARAGRAPH_CHARS: usize = 20_000;
/// Longest accepted Markdown body, in characters.
pub const MAX_BODY_CHARS: usize = 100_000;

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => ($code:literal, $vi:literal, $en:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code used in files, URLs and the API.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Vietnamese name.
            pub fn name_vi(self) -> &'static str {
                match self { $($name::$variant => $vi),+ }
            }

            /// The English name.
            pub fn name_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            /// Looks a value up by its code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The allowed codes, comma-separated, for error messages.
            pub fn codes() -> String {
                [$($code),+].join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum! {
    /// The contest's fields: the national programme's priority fields plus the common extras.
    Field {
        Health => ("health", "Y tế", "Health"),
        Education => ("education", "Giáo dục", "Education"),
        Finance => ("finance", "Tài chính – Ngân hàng", "Finance and banking"),
        Agriculture => ("agriculture", "Nông nghiệp", "Agriculture"),
        Transport => ("transport", "Giao thông – Logistics", "Transport and logistics"),
        Energy => ("energy", "Năng lượng", "Energy"),
        Environment => ("environment", "Tài nguyên – Môi trường", "Natural resources and environment"),
        Industry => ("industry", "Sản xuất công nghiệp", "Industrial production"),
        Government => ("government", "Chính quyền số", "E-government and public administration"),
        Tourism => ("tourism", "Du lịch – Văn hoá", "Tourism and culture"),
        Community => ("community", "Cộng đồng", "Community"),
    }
}

code_enum! {
    /// The contest's groups (2022): by sector, by locality, by enterprise, community projects.
    Group {
        Sector => ("sector", "Theo ngành, lĩnh vực", "By sector"),
        Locality => ("locality", "Theo địa phương", "By locality"),
        Enterprise => ("enterprise", "Doanh nghiệp", "By enterprise"),
        Community => ("community", "Dự án cộng đồng", "Community projects"),
    }
}

/// A stable problem code such as `BT-01`: 2 to 20 characters, ASCII upper-case letters, digits
/// and `-`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProblemCode(String);

impl ProblemCode {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok_len = (2..=20).contains(&s.len());
        let ok_start = s.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if ok_len && ok_start && ok_chars {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "'{s}' is not a problem code: use 2 to 20 upper-case letters, digits or '-', starting with a letter (e.g. BT-01)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProblemCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<ProblemCode> for String {
    fn from(c: ProblemCode) -> String {
        c.0
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who would use a solution, and how many of them there are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Market {
    pub users: String,
    pub count: u64,
    pub unit: String,
}

/// A validated problem statement. Construct it with [`Problem::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: ProblemCode,
    pub title_vi: String,
    pub title_en: String,
    pub agency: String,
    pub agency_en: String,
    pub group: Group,
    pub field: Field,
    pub policy_mandated: bool,
    pub policy_basis: String,
    pub pain_point: String,
    pub expected_outcome: String,
    pub data_available: String,
    pub constraints: String,
    pub summary_en: String,
    pub market: Market,
    /// The statement's Markdown body (Vietnamese).
    pub body: String,
}

/// Where and why a problem file is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemFileError {
    pub file: String,
    /// 1-based line in the file.
    pub line: usize,
    /// The front-matter key at fault (`market.count`), or `front matter` / `body`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ProblemFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: field `{}`: {}",
            self.file, self.line, self.field, self.message
        )
    }
}

impl std::error::Error for ProblemFileError {}

type S<T> = toml::Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMarket {
    users: S<String>,
    count: S<i64>,
    unit: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrontMatter {
    code: S<String>,
    title_vi: S<String>,
    title_en: S<String>,
    agency: S<String>,
    agency_en: S<String>,
    group: S<String>,
    field: S<String>,
    policy_mandated: S<bool>,
    policy_basis: S<String>,
    pain_point: S<String>,
    expected_outcome: S<String>,
    data_available: S<String>,
    constraints: S<String>,
    summary_en: S<String>,
    market: S<RawMarket>,
}

const FENCE: &str = "+++";

impl Problem {
    /// Parses one problem file. `file` is the file name used in errors; when its stem looks like a
    /// code, the front matter's `code` must equal it.
    pub fn parse(file: &str, source: &str) -> Result<Problem, ProblemFileError> {
        let err = |line: usize, field: &str, message: String| ProblemFileError {
            file: file.to_owned(),
            line,
            field: field.to_owned(),
            message,
        };
        let source = source.strip_prefix('\u{feff}').unwrap_or(source);

        // Locate the two fences; remember where the front matter starts (byte offset, line).
        let mut lines = source.split_inclusive('\n');
        let first = lines.next().unwrap_or("");
        if first.trim_end() != FENCE {
            return Err(err(
                1,
                "front matter",
                "the file must start with a line `+++` that opens the TOML front matter".into(),
            ));
        }
        let fm_start = first.len();
        let mut offset = fm_start;
        let mut line_no = 1;
        let mut fm_end = None;
        for l in lines {
            line_no += 1;
            if l.trim_end() == FENCE {
                fm_end = Some((offset, offset + l.len()));
                break;
            }
            offset += l.len();
        }
        let Some((fm_end, body_start)) = fm_end else {
            return Err(err(
                line_no,
                "front matter",
                "no closing `+++` line after the front matter".into(),
            ));
        };
        let front = &source[fm_start..fm_end];
        let body = &source[body_start..];
        // Line of a byte offset inside the front matter (front matter starts on line 2).
        let line_of = |pos: usize| 2 + front[..pos.min(front.len())].matches('\n').count();

        let raw: RawFrontMatter = toml::from_str(front).map_err(|e| {
            let line = e.span().map_or(2, |s| line_of(s.start));
            let field = missing_or_unknown_key(e.message())
                .or_else(|| e.span().and_then(|s| key_at(front, s.start)))
                .unwrap_or_else(|| "front matter".into());
            err(line, &field, e.message().trim().to_owned())
        })?;

        let text_field =
            |v: &S<String>, name: &str, max: usize| -> Result<String, ProblemFileError> {
                let cleaned = text::clean(v.get_ref());
                let line = line_of(v.span().start);
                if cleaned.is_empty() {
                    return Err(err(line, name, "must not be empty".into()));
                }
                let n = cleaned.chars().count();
                if n > max {
                    return Err(err(
                        line,
                        name,
                        format!("is {n} characters long; at most {max} are allowed"),
                    ));
                }
                Ok(cleaned)
            };

        let code = ProblemCode::parse(raw.code.get_ref().trim())
            .map_err(|m| err(line_of(raw.code.span().start), "code", m))?;
        if let Some(stem) = file.rsplit('/').next().and_then(|n| n.strip_suffix(".md"))
            && ProblemCode::parse(stem).is_ok()
            && stem != code.as_str()
        {
            return Err(err(
                line_of(raw.code.span().start),
                "code",
                format!("is '{code}' but the file is named '{stem}.md'; they must agree"),
            ));
        }
        let group = Group::from_code(raw.group.get_ref().trim()).ok_or_else(|| {
            err(
                line_of(raw.group.span().start),
                "group",
                format!(
                    "'{}' is not a group; use one of: {}",
                    raw.group.get_ref(),
                    Group::codes()
                ),
            )
        })?;
        let field = Field::from_code(raw.field.get_ref().trim()).ok_or_else(|| {
            err(
                line_of(raw.field.span().start),
                "field",
                format!(
                    "'{}' is not a field; use one of: {}",
                    raw.field.get_ref(),
                    Field::codes()
                ),
            )
        })?;
        let market = raw.market.get_ref();
        let count = *market.count.get_ref();
        if count <= 0 {
            return Err(err(
                line_of(market.count.span().start),
                "market.count",
                format!("must be a positive whole number, not {count}"),
            ));
        }

        let body_text = text::clean(body);
        if body_text.is_empty() {
            return Err(err(
                line_no + 1,
                "body",
                "the Markdown body after `+++` is empty".into(),
            ));
        }
        if body_text.chars().count() > MAX_BODY_CHARS {
            return Err(err(
                line_no + 1,
                "body",
                format!("is longer than {MAX_BODY_CHARS} characters"),
            ));
        }

        Ok(Problem {
            code,
            title_vi: text_field(&raw.title_vi, "title_vi", MAX_TITLE_CHARS)?,
            title_en: text_field(&raw.title_en, "title_en", MAX_TITLE_CHARS)?,
            agency: text_field(&raw.agency, "agency", MAX_LINE_CHARS)?,
            agency_en: text_field(&raw.agency_en, "agency_en", MAX_LINE_CHARS)?,
            group,
            field,
            policy_mandated: *raw.policy_mandated.get_ref(),
            policy_basis: text_field(&raw.policy_basis, "policy_basis", MAX_PARAGRAPH_CHARS)?,
            pain_point: text_field(&raw.pain_point, "pain_point", MAX_PARAGRAPH_CHARS)?,
            expected_outcome: text_field(
                &raw.expected_outcome,
                "expected_outcome",
                MAX_PARAGRAPH_CHARS,
            )?,
            data_available: text_field(&raw.data_available, "data_available", MAX_PARAGRAPH_CHARS)?,
            constraints: text_field(&raw.constraints, "constraints", MAX_PARAGRAPH_CHARS)?,
            summary_en: text_field(&raw.summary_en, "summary_en", MAX_PARAGRAPH_CHARS)?,
            market: Market {
                users: text_field(&market.users, "market.users", MAX_LINE_CHARS)?,
                count: count as u64,
                unit: text_field(&market.unit, "market.unit", MAX_LINE_CHARS)?,
            },
            body: body_text,
        })
    }

    /// Folded text of every searchable part, in both languages.
    pub fn search_text(&self) -> String {
        let parts = [
            self.code.as_str(),
            &self.title_vi,
            &self.title_en,
            &self.agency,
            &self.agency_en,
            &self.pain_point,
            &self.expected_outcome,
            &self.data_available,
            &self.constraints,
            &self.policy_basis,
            &self.summary_en,
            &self.market.users,
            &self.body,
        ];
        text::fold(&parts.join("\n"))
    }
}

/// The dotted key (`market.count`) of the `key = value` line holding byte `pos`, if any.
fn key_at(front: &str, pos: usize) -> Option<String> {
    let before = &front[..pos.min(front.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = front[line_start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let table = before[..line_start]
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix('[').and_then(|t| t.strip_suffix(']')));
    Some(match table {
        Some(t) => format!("{}.{key}", t.trim()),
        None => key.to_owned(),
    })
}

/// serde reports "missing field `x`" / "unknown field `x`": pull out the key for the error.
fn missing_or_unknown_key(message: &str) -> Option<String> {
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.find(prefix).map(|i| &message[i + prefix.len()..]) {
            return rest.split('`').next().map(str::to_owned);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const GOOD: &str = r#"+++
code = "BT-01"
title_vi = "Cửa khẩu số"
title_en = "Digital border gate"
agency = "Bộ Công Thương"
agency_en = "Ministry of Industry and Trade"
group = "sector"
field = "transport"
policy_mandated = true
policy_basis = "Quyết định 749/QĐ-TTg"
pain_point = "Thủ tục giấy tờ tại cửa khẩu."
expected_outcome = "Một nền tảng số."
data_available = "Dữ liệu hải quan."
constraints = "An toàn thông tin."
summary_en = "One platform for border gates."

[market]
users = "Cửa khẩu"
count = 32
unit = "cửa khẩu đường bộ"
+++

## Bối cảnh

Nội dung.
"#;

    #[test]
    fn parses_a_good_file() {
        let p = Problem::parse("BT-01.md", GOOD).expect("valid");
        assert_eq!(p.code.as_str(), "BT-01");
        assert_eq!(p.field, Field::Transport);
        assert_eq!(p.group, Group::Sector);
        assert_eq!(p.market.count, 32);
        assert!(p.body.starts_with("## Bối cảnh"));
        assert!(p.search_text().contains("cua khau so"));
    }

    fn expect_err(file: &str, src: &str) -> ProblemFileError {
        Problem::parse(file, src).expect_err("should be refused")
    }

    #[test]
    fn unknown_field_value_names_key_and_line() {
        let e = expect_err("BT-01.md", &GOOD.replace("\"transport\"", "\"space\""));
        assert_eq!((e.field.as_str(), e.line), ("field", 8));
        assert!(e.message.contains("health"), "{}", e.message);
    }

    #[test]
    fn missing_key_is_named() {
        let e = expect_err(
            "BT-01.md",
            &GOOD.replace("agency_en = \"Ministry of Industry and Trade\"\n", ""),
        );
        assert_eq!(e.field, "agency_en");
    }

    #[test]
    fn unknown_key_is_named() {
        let e = expect_err(
            "BT-01.md",
            &GOOD.replace("group =", "colour = \"red\"\ngroup ="),
        );
        assert_eq!(e.field, "colour");
        assert_eq!(e.line, 7);
    }

    #[test]
    fn wrong_type_names_the_dotted_key() {
        let e = expect_err("BT-01.md", &GOOD.replace("count = 32", "count = \"many\""));
        assert_eq!((e.field.as_str(), e.line), ("market.count", 19));
        let e = expect_err(
            "BT-01.md",
            &GOOD.replace("policy_mandated = true", "policy_mandated = \"yes\""),
        );
        assert_eq!((e.field.as_str(), e.line), ("policy_mandated", 9));
    }

    #[test]
    fn toml_syntax_error_has_a_line() {
        let e = expect_err(
            "BT-01.md",
            &GOOD.replace("title_en = \"Digital border gate\"", "title_en = Digital"),
        );
        assert_eq!(e.line, 4);
    }

    #[test]
    fn empty_and_negative_values_are_refused() {
        let e = expect_err("BT-01.md", &GOOD.replace("\"Cửa khẩu số\"", "\"   \""));
        assert_eq!((e.field.as_str(), e.line), ("title_vi", 3));
        let e = expect_err("BT-01.md", &GOOD.replace("count = 32", "count = -3"));
        assert_eq!((e.field.as_str(), e.line), ("market.count", 19));
    }

    #[test]
    fn code_must_match_file_name() {
        let e = expect_err("problems/BT-02.md", GOOD);
        assert_eq!(e.field, "code");
        assert!(Problem::parse("cua-khau.md", GOOD).is_ok());
    }

    #[test]
    fn fences_and_body_are_required() {
        assert_eq!(expect_err("x.md", "code = 1").field, "front matter");
        assert_eq!(
            expect_err("x.md", "+++\ncode = \"BT-01\"\n").field,
            "front matter"
        );
        let no_body = GOOD.split("## Bối cảnh").next().unwrap_or_default();
        assert_eq!(expect_err("BT-01.md", no_body).field, "body");
    }

    #[test]
    fn codes_are_validated() {
        assert!(ProblemCode::parse("BT-72").is_ok());
        for bad in ["", "b-1", "BT 1", "1BT", "BT-01/../x", "ĐT-01"] {
            assert!(ProblemCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_and_group_codes_round_trip() {
        for f in Field::ALL {
            assert_eq!(Field::from_code(f.code()), Some(*f));
        }
        for g in Group::ALL {
            assert_eq!(Group::from_code(g.code()), Some(*g));
        }
        assert_eq!(Field::ALL.len(), 11);
    }
}
