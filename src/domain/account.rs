//! Accounts: validated email, name, organization, phone and password; roles.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::text;

pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_ORGANIZATION_CHARS: usize = 200;
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Why a value was refused. `field` names the input; the message key says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem:?}")]
pub struct Invalid {
    pub field: &'static str,
    pub problem: Problem,
}

/// What is wrong with a value, for messages in either language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Required,
    TooLong(usize),
    TooShort(usize),
    BadEmail,
    BadPhone,
    CommonPassword,
    NotAllowed(String),
    /// Not an http(s) address.
    BadUrl,
    /// A file name with path separators, control characters or invisible formatting.
    BadFileName,
    /// The file's extension is not one of the allowed types (listed).
    FileType(String),
    /// The file's content is not what its name says (the detected kind, if any).
    TypeMismatch(String),
    /// The file is empty.
    EmptyFile,
    /// Larger than this many megabytes.
    TooLargeMb(u64),
    /// The upload stopped before the file was complete.
    Interrupted,
    /// Not one of the published problems.
    UnknownProblem,
    /// Must be later than the named time.
    After(&'static str),
    /// Must not be earlier than the named time.
    NotBefore(&'static str),
    /// Must not be later than the named time.
    NotAfter(&'static str),
    /// Not an RFC 3339 time with an offset.
    BadTime,
    /// A whole number from .0 to .1.
    Range(i64, i64),
    /// Not 1–200 visible ASCII characters.
    BadKey,
    /// Listed more than once.
    Duplicate,
    /// The entry's files together would exceed this many megabytes.
    EntryTooLargeMb(u64),
}

impl Problem {
    /// The message in `lang` ("vi" or "en").
    pub fn message(&self, vi: bool) -> String {
        match (self, vi) {
            (Problem::Required, true) => "Không được để trống.".into(),
            (Problem::Required, false) => "This is required.".into(),
            (Problem::TooLong(n), true) => format!("Dài quá {n} ký tự."),
            (Problem::TooLong(n), false) => format!("Longer than {n} characters."),
            (Problem::TooShort(n), true) => format!("Cần ít nhất {n} ký tự."),
            (Problem::TooShort(n), false) => format!("Needs at least {n} characters."),
            (Problem::BadEmail, true) => "Địa chỉ email không hợp lệ.".into(),
            (Problem::BadEmail, false) => "This is not a valid email address.".into(),
            (Problem::BadPhone, true) => {
                "Số điện thoại không hợp lệ (8–15 chữ số, có thể bắt đầu bằng +).".into()
            }
            (Problem::BadPhone, false) => {
                "Not a valid phone number (8–15 digits, may start with +).".into()
            }
            (Problem::CommonPassword, true) => {
                "Mật khẩu quá phổ biến hoặc dễ đoán; hãy chọn mật khẩu khác.".into()
            }
            (Problem::CommonPassword, false) => {
                "This password is too common or easy to guess; choose another.".into()
            }
            (Problem::NotAllowed(list), true) => {
                format!("Giá trị không được phép; chọn một trong: {list}.")
            }
            (Problem::NotAllowed(list), false) => {
                format!("Not an allowed value; choose one of: {list}.")
            }
            (Problem::BadUrl, true) => {
                "Địa chỉ không hợp lệ; cần bắt đầu bằng http:// hoặc https://.".into()
            }
            (Problem::BadUrl, false) => {
                "Not a valid address; it must start with http:// or https://.".into()
            }
            (Problem::BadFileName, true) => {
                "Tên tệp không hợp lệ (không được chứa / \\, ký tự điều khiển hoặc ký tự ẩn)."
                    .into()
            }
            (Problem::BadFileName, false) => {
                "Invalid file name (no / or \\, control characters or invisible characters).".into()
            }
            (Problem::FileType(list), true) => {
                format!("Loại tệp không được chấp nhận; chỉ nhận: {list}.")
            }
            (Problem::FileType(list), false) => {
                format!("This file type is not accepted; allowed: {list}.")
            }
            (Problem::TypeMismatch(found), true) => {
                format!("Nội dung tệp không khớp với đuôi tên tệp (nội dung thực: {found}).")
            }
            (Problem::TypeMismatch(found), false) => {
                format!(
                    "The file's content does not match its extension (content looks like: {found})."
                )
            }
            (Problem::Interrupted, true) => {
                "Việc tải tệp lên bị gián đoạn; vui lòng thử lại.".into()
            }
            (Problem::Interrupted, false) => "The upload was interrupted; please try again.".into(),
            (Problem::UnknownProblem, true) => {
                "Không có bài toán với mã này (ví dụ mã đúng: BT-01).".into()
            }
            (Problem::UnknownProblem, false) => {
                "There is no problem with this code (a valid code looks like BT-01).".into()
            }
            (Problem::After(other), true) => format!("Phải muộn hơn {other}."),
            (Problem::After(other), false) => format!("Must be later than {other}."),
            (Problem::NotBefore(other), true) => format!("Không được sớm hơn {other}."),
            (Problem::NotBefore(other), false) => format!("Must not be earlier than {other}."),
            (Problem::NotAfter(other), true) => format!("Không được muộn hơn {other}."),
            (Problem::NotAfter(other), false) => format!("Must not be later than {other}."),
            (Problem::BadTime, true) => {
                "Cần một thời điểm theo RFC 3339 có múi giờ, ví dụ 2027-03-31T17:00:00+07:00."
                    .into()
            }
            (Problem::BadTime, false) => {
                "Needs an RFC 3339 time with an offset, e.g. 2027-03-31T17:00:00+07:00.".into()
            }
            (Problem::Range(lo, hi), true) => format!("Cần một số nguyên từ {lo} đến {hi}."),
            (Problem::Range(lo, hi), false) => format!("Needs a whole number from {lo} to {hi}."),
            (Problem::BadKey, true) => "Cần 1–200 ký tự ASCII nhìn thấy được.".into(),
            (Problem::BadKey, false) => "Needs 1–200 visible ASCII characters.".into(),
            (Problem::Duplicate, true) => "Mỗi mục chỉ được nêu một lần.".into(),
            (Problem::Duplicate, false) => "Each item may be listed only once.".into(),
            (Problem::EmptyFile, true) => "Tệp rỗng.".into(),
            (Problem::EmptyFile, false) => "The file is empty.".into(),
            (Problem::TooLargeMb(n), true) => format!("Tệp lớn hơn giới hạn {n} MB."),
            (Problem::TooLargeMb(n), false) => format!("The file is larger than the {n} MB limit."),
            (Problem::EntryTooLargeMb(n), true) => {
                format!("Tổng dung lượng tệp của bài dự thi sẽ vượt {n} MB.")
            }
            (Problem::EntryTooLargeMb(n), false) => {
                format!("The entry's files together would exceed {n} MB.")
            }
        }
    }
}

fn invalid(field: &'static str, problem: Problem) -> Invalid {
    Invalid { field, problem }
}

/// Trims, normalizes to NFC, and checks presence and length.
pub fn required_text(field: &'static str, value: &str, max: usize) -> Result<String, Invalid> {
    let v = text::clean(value);
    if v.is_empty() {
        return Err(invalid(field, Problem::Required));
    }
    if v.chars().count() > max {
        return Err(invalid(field, Problem::TooLong(max)));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(invalid(
            field,
            Problem::NotAllowed("text without control characters".into()),
        ));
    }
    Ok(v)
}

/// A normalized email address: trimmed, NFC, lower-case, syntactically valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(field: &'static str, s: &str) -> Result<Email, Invalid> {
        let v = text::clean(s).to_lowercase();
        if v.is_empty() {
            return Err(invalid(field, Problem::Required));
        }
        if v.chars().count() > MAX_EMAIL_CHARS {
            return Err(invalid(field, Problem::TooLong(MAX_EMAIL_CHARS)));
        }
        let ok = email_address::EmailAddress::from_str(&v).is_ok()
            && v.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && domain
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
            });
        if !ok {
            return Err(invalid(field, Problem::BadEmail));
        }
        Ok(Email(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit('@').next().unwrap_or("")
    }
}

impl TryFrom<String> for Email {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Email::parse("email", &s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An optional phone number: digits with an optional leading `+`; spaces, dots and dashes are
/// dropped. Empty means none.
pub fn phone(field: &'static str, s: &str) -> Result<Option<String>, Invalid> {
    let v = s.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let (plus, rest) = match v.strip_prefix('+') {
        Some(r) => ("+", r),
        None => ("", v),
    };
    let digits: String = rest
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    if !(8..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid(field, Problem::BadPhone));
    }
    Ok(Some(format!("{plus}{digits}")))
}

/// Checks a new password: length, and not common or easily guessed (zxcvbn, which also refuses
/// passwords built from the person's own email or name).
pub fn check_password(
    field: &'static str,
    password: &str,
    user_inputs: &[&str],
) -> Result<(), Invalid> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(invalid(field, Problem::TooShort(MIN_PASSWORD_CHARS)));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(invalid(field, Problem::TooLong(MAX_PASSWORD_CHARS)));
    }
    let lowered = password.to_lowercase();
    let folded = text::fold(password);
    if VIETNAMESE_COMMON
        .iter()
        .any(|c| lowered.contains(c) && lowered.len() <= c.len() + 4)
        || VIETNAMESE_COMMON
            .iter()
            .any(|c| folded.replace(' ', "").contains(c) && folded.len() <= c.len() + 4)
    {
        return Err(invalid(field, Problem::CommonPassword));
    }
    // The person's own email and name, whole, folded, run together and in pieces.
    let mut inputs: Vec<String> = Vec::new();
    for input in user_inputs {
        let f = text::fold(input);
        inputs.push(f.replace(' ', ""));
        inputs.extend(
            f.split(|c: char| !c.is_alphanumeric())
                .filter(|p| p.len() >= 3)
                .map(str::to_owned),
        );
        if let Some((local, _)) = f.split_once('@') {
            inputs.push(local.to_owned());
        }
        inputs.push(f);
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &refs);
    if (estimate.score() as u8) < 3 {
        return Err(invalid(field, Problem::CommonPassword));
    }
    Ok(())
}

/// Common Vietnamese password stems that English-centred lists miss.
const VIETNAMESE_COMMON: &[&str] = &[
    "matkhau",
    "anhyeuem",
    "emyeuanh",
    "yeuem",
    "vietnam",
    "hanoi",
    "saigon",
    "hochiminh",
    "chuyendoiso",
    "matkhaumoi",
    "abc123456",
    "123456789a",
];

/// Who someone is in the contest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Participant,
    Judge,
    Organizer,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Participant => "participant",
            Role::Judge => "judge",
            Role::Organizer => "organizer",
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Role::Participant => "Thí sinh",
            Role::Judge => "Giám khảo",
            Role::Organizer => "Ban tổ chức",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Role::Participant => "Participant",
            Role::Judge => "Judge",
            Role::Organizer => "Organizer",
        }
    }

    pub fn from_code(s: &str) -> Option<Role> {
        match s {
            "participant" => Some(Role::Participant),
            "judge" => Some(Role::Judge),
            "organizer" => Some(Role::Organizer),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_validated() {
        assert_eq!(
            Email::parse("email", "  An.Nguyen@Example.VN ").map(|e| e.to_string()),
            Ok("an.nguyen@example.vn".into())
        );
        for bad in [
            "", "a", "a@b", "@x.vn", "a@.vn", "a@x.", "a b@x.vn", "a@@x.vn",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
        assert_eq!(
            Email::parse("email", "x@mic.gov.vn").map(|e| e.domain().to_owned()),
            Ok("mic.gov.vn".into())
        );
        assert_eq!(
            Email::parse("email", "").map_err(|e| e.problem),
            Err(Problem::Required)
        );
    }

    #[test]
    fn phones() {
        assert_eq!(phone("phone", ""), Ok(None));
        assert_eq!(
            phone("phone", "+84 912 345 678"),
            Ok(Some("+84912345678".into()))
        );
        assert_eq!(
            phone("phone", "0912.345.678"),
            Ok(Some("0912345678".into()))
        );
        assert!(phone("phone", "12").is_err());
        assert!(phone("phone", "09123abc78").is_err());
    }

    #[test]
    fn passwords() {
        assert_eq!(
            check_password("password", "short", &[]).map_err(|e| e.problem),
            Err(Problem::TooShort(10))
        );
        for common in [
            "password123",
            "1234567890",
            "qwertyuiop",
            "matkhau123",
            "anhyeuem123",
            "Iloveyou12",
        ] {
            assert_eq!(
                check_password("password", common, &[]).map_err(|e| e.problem),
                Err(Problem::CommonPassword),
                "{common}"
            );
        }
        assert!(
            check_password(
                "password",
                "nguyenvanan2022",
                &["nguyenvanan@example.vn", "Nguyễn Văn An"]
            )
            .is_err()
        );
        assert!(check_password("password", "Ruộng bậc thang Mù Cang Chải 7", &[]).is_ok());
        assert!(check_password("password", "correct horse battery staple", &[]).is_ok());
        assert_eq!(
            check_password("password", &"x".repeat(129), &[]).map_err(|e| e.problem),
            Err(Problem::TooLong(128))
        );
    }

    #[test]
    fn required_text_trims_and_limits() {
        assert_eq!(
            required_text("full_name", "  Lê Thị Hoa ", 100),
            Ok("Lê Thị Hoa".into())
        );
        assert_eq!(
            required_text("full_name", "   ", 100).map_err(|e| e.problem),
            Err(Problem::Required)
        );
        assert_eq!(
            required_text("full_name", &"a".repeat(101), 100).map_err(|e| e.problem),
            Err(Problem::TooLong(100))
        );
        assert!(required_text("full_name", "a\u{0}b", 100).is_err());
    }
}
