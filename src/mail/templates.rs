//! The messages: one `MailKind` per message, rendered in Vietnamese or English into a subject, a
//! plain-text part and an HTML part. Bodies are askama templates in `templates/mail/` (one file
//! per language and part); subjects are here. HTML is escaped by askama, so names and team names
//! typed by people cannot inject markup.
//!
//! Links must be absolute: callers build them from `server.public_base_url`.

use askama::Template;

use crate::i18n::Lang;
use crate::store::outbox::NewMail;

/// Every message the service sends, with what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailKind {
    /// Confirm the address of a new account.
    VerifyEmail { name: String, url: String },
    /// A link to choose a new password.
    PasswordReset { name: String, url: String },
    /// Confirm a new address for an existing account (sent to the new address).
    EmailChange { name: String, url: String },
    /// An organizer invites someone to judge.
    JudgeInvitation { inviter: String, url: String },
    /// A team member invites someone to join their team.
    TeamInvitation {
        team: String,
        inviter: String,
        url: String,
    },
    /// An organizer disabled the account.
    AccountDisabled { name: String },
    /// The receipt of a submit, sent to every member of the team.
    EntryReceipt {
        name: String,
        team: String,
        problem_code: String,
        title: String,
        entry_id: String,
        version: i64,
        /// Local time in Vietnam, and the same instant in RFC 3339 UTC.
        submitted_at_ict: String,
        submitted_at_utc: String,
        content_sha256: String,
        late: bool,
        url: String,
    },
    /// An entry's status changed; sent to every member of the team.
    EntryStatusChanged {
        name: String,
        team: String,
        problem_code: String,
        title: String,
        status: crate::domain::entry::EntryStatus,
        reason: Option<String>,
        prize: Option<String>,
        url: String,
    },
}

impl MailKind {
    /// The code stored in the outbox's `kind` column.
    pub fn code(&self) -> &'static str {
        match self {
            MailKind::VerifyEmail { .. } => "verify_email",
            MailKind::PasswordReset { .. } => "password_reset",
            MailKind::EmailChange { .. } => "email_change",
            MailKind::JudgeInvitation { .. } => "judge_invitation",
            MailKind::TeamInvitation { .. } => "team_invitation",
            MailKind::AccountDisabled { .. } => "account_disabled",
            MailKind::EntryReceipt { .. } => "entry_receipt",
            MailKind::EntryStatusChanged { .. } => "entry_status",
        }
    }

    /// The message's link, if it has one.
    pub fn url(&self) -> Option<&str> {
        match self {
            MailKind::VerifyEmail { url, .. }
            | MailKind::PasswordReset { url, .. }
            | MailKind::EmailChange { url, .. }
            | MailKind::JudgeInvitation { url, .. }
            | MailKind::TeamInvitation { url, .. }
            | MailKind::EntryReceipt { url, .. }
            | MailKind::EntryStatusChanged { url, .. } => Some(url),
            MailKind::AccountDisabled { .. } => None,
        }
    }
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "mail/vi.txt")]
struct ViText<'a> {
    kind: &'a MailKind,
    contest: &'a str,
}

#[derive(Template)]
#[template(path = "mail/en.txt")]
struct EnText<'a> {
    kind: &'a MailKind,
    contest: &'a str,
}

#[derive(Template)]
#[template(path = "mail/vi.html")]
struct ViHtml<'a> {
    kind: &'a MailKind,
    contest: &'a str,
    subject: &'a str,
}

#[derive(Template)]
#[template(path = "mail/en.html")]
struct EnHtml<'a> {
    kind: &'a MailKind,
    contest: &'a str,
    subject: &'a str,
}

/// The subject line: the action first, then the contest. Line breaks and other control
/// characters (from names people typed) become spaces.
fn subject(kind: &MailKind, lang: Lang, contest: &str) -> String {
    let action = match (kind, lang) {
        (MailKind::VerifyEmail { .. }, Lang::Vi) => "Xác nhận địa chỉ email".to_owned(),
        (MailKind::VerifyEmail { .. }, Lang::En) => "Confirm your email address".to_owned(),
        (MailKind::PasswordReset { .. }, Lang::Vi) => "Đặt lại mật khẩu".to_owned(),
        (MailKind::PasswordReset { .. }, Lang::En) => "Reset your password".to_owned(),
        (MailKind::EmailChange { .. }, Lang::Vi) => "Xác nhận địa chỉ email mới".to_owned(),
        (MailKind::EmailChange { .. }, Lang::En) => "Confirm your new email address".to_owned(),
        (MailKind::JudgeInvitation { .. }, Lang::Vi) => {
            "Thư mời tham gia Hội đồng Giám khảo".to_owned()
        }
        (MailKind::JudgeInvitation { .. }, Lang::En) => {
            "Invitation to join the judging panel".to_owned()
        }
        (MailKind::TeamInvitation { team, .. }, Lang::Vi) => {
            format!("Lời mời tham gia đội “{team}”")
        }
        (MailKind::TeamInvitation { team, .. }, Lang::En) => {
            format!("Invitation to join the team “{team}”")
        }
        (MailKind::AccountDisabled { .. }, Lang::Vi) => "Tài khoản đã bị vô hiệu hóa".to_owned(),
        (MailKind::AccountDisabled { .. }, Lang::En) => "Your account has been disabled".to_owned(),
        (
            MailKind::EntryReceipt {
                problem_code,
                version,
                ..
            },
            Lang::Vi,
        ) => format!("Biên nhận nộp bài {problem_code}, phiên bản {version}"),
        (
            MailKind::EntryReceipt {
                problem_code,
                version,
                ..
            },
            Lang::En,
        ) => format!("Receipt for your entry to {problem_code}, version {version}"),
        (
            MailKind::EntryStatusChanged {
                problem_code,
                status,
                ..
            },
            Lang::Vi,
        ) => format!("Bài dự thi {problem_code}: {}", status.name_vi()),
        (
            MailKind::EntryStatusChanged {
                problem_code,
                status,
                ..
            },
            Lang::En,
        ) => format!("Your entry to {problem_code}: {}", status.name_en()),
    };
    format!("{action} – {contest}")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Renders `kind` in `lang`. `contest_name` is the contest's name in that language.
pub fn render(kind: &MailKind, lang: Lang, contest_name: &str) -> Rendered {
    let subject = subject(kind, lang, contest_name);
    let (text, html) = match lang {
        Lang::Vi => (
            ViText {
                kind,
                contest: contest_name,
            }
            .render(),
            ViHtml {
                kind,
                contest: contest_name,
                subject: &subject,
            }
            .render(),
        ),
        Lang::En => (
            EnText {
                kind,
                contest: contest_name,
            }
            .render(),
            EnHtml {
                kind,
                contest: contest_name,
                subject: &subject,
            }
            .render(),
        ),
    };
    let text = text.unwrap_or_else(|e| fallback_text(kind, &subject, &e));
    let html = html.unwrap_or_else(|e| fallback_html(&text, &e));
    Rendered {
        subject,
        text,
        html,
    }
}

/// The templates only print strings, so rendering cannot fail in practice; should it ever, the
/// message still says what it is about and carries its link.
fn fallback_text(kind: &MailKind, subject: &str, err: &askama::Error) -> String {
    tracing::error!(error = %err, kind = kind.code(), "mail text template failed");
    match kind.url() {
        Some(url) => format!("{subject}\n\n{url}\n"),
        None => format!("{subject}\n"),
    }
}

fn fallback_html(text: &str, err: &askama::Error) -> String {
    tracing::error!(error = %err, "mail HTML template failed");
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    format!("<!DOCTYPE html><html><body><pre>{escaped}</pre></body></html>")
}

/// Renders `kind` and packs it for `crate::store::outbox::enqueue_mail`.
pub fn new_mail(
    to_email: &str,
    to_user_id: Option<&str>,
    lang: Lang,
    kind: &MailKind,
    contest_name: &str,
) -> NewMail {
    let Rendered {
        subject,
        text,
        html,
    } = render(kind, lang, contest_name);
    NewMail {
        to_email: to_email.trim().to_owned(),
        to_user_id: to_user_id.map(str::to_owned),
        lang,
        kind: kind.code().to_owned(),
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEST_VI: &str = "Cuộc thi Tìm kiếm giải pháp Chuyển đổi số Quốc gia";
    const CONTEST_EN: &str = "National Digital Transformation Solution Contest";
    const URL: &str = "https://dxcontest.example.vn/account/verify?token=abc&x=1";

    fn all_kinds(name: &str) -> Vec<MailKind> {
        vec![
            MailKind::VerifyEmail {
                name: name.to_owned(),
                url: URL.to_owned(),
            },
            MailKind::PasswordReset {
                name: name.to_owned(),
                url: URL.to_owned(),
            },
            MailKind::EmailChange {
                name: name.to_owned(),
                url: URL.to_owned(),
            },
            MailKind::JudgeInvitation {
                inviter: name.to_owned(),
                url: URL.to_owned(),
            },
            MailKind::TeamInvitation {
                team: format!("Đội {name}"),
                inviter: name.to_owned(),
                url: URL.to_owned(),
            },
            MailKind::AccountDisabled {
                name: name.to_owned(),
            },
        ]
    }

    #[test]
    fn vietnamese_messages_have_diacritics_the_name_and_the_link() {
        for kind in all_kinds("Nguyễn Thị Hương") {
            let r = render(&kind, Lang::Vi, CONTEST_VI);
            assert!(r.subject.ends_with(CONTEST_VI), "{}", r.subject);
            assert!(r.text.contains("Nguyễn Thị Hương"), "{}", r.text);
            assert!(r.html.contains("Nguyễn Thị Hương"), "{}", r.html);
            assert!(r.text.contains("Trân trọng"), "{}", r.text);
            assert!(r.html.contains("<html lang=\"vi\">"), "{}", r.html);
            if let Some(url) = kind.url() {
                assert!(
                    r.text.contains(url),
                    "text keeps the link as is: {}",
                    r.text
                );
                assert!(
                    r.html.contains("token=abc&#38;x=1"),
                    "HTML escapes the link: {}",
                    r.html
                );
            }
        }
        let r = render(&all_kinds("An")[0], Lang::Vi, CONTEST_VI);
        assert!(r.subject.starts_with("Xác nhận địa chỉ email – "));
        assert!(r.text.starts_with("Kính gửi An,\n"), "{}", r.text);
        assert!(
            r.text.ends_with("xin vui lòng không trả lời.\n"),
            "{:?}",
            r.text
        );
    }

    #[test]
    fn english_messages_are_english() {
        for kind in all_kinds("Jane Doe") {
            let r = render(&kind, Lang::En, CONTEST_EN);
            assert!(r.subject.ends_with(CONTEST_EN), "{}", r.subject);
            assert!(r.text.contains("Jane Doe"), "{}", r.text);
            assert!(r.text.contains("Kind regards"), "{}", r.text);
            assert!(!r.text.contains("Trân trọng"), "{}", r.text);
            assert!(r.html.contains("<html lang=\"en\">"), "{}", r.html);
        }
        let r = render(&all_kinds("Jane")[1], Lang::En, CONTEST_EN);
        assert_eq!(r.subject, format!("Reset your password – {CONTEST_EN}"));
    }

    #[test]
    fn markup_in_names_is_escaped_in_html() {
        let evil = "<script>alert('x')</script>";
        for lang in [Lang::Vi, Lang::En] {
            for kind in all_kinds(evil) {
                let r = render(&kind, lang, "Contest <b>");
                assert!(!r.html.contains("<script>"), "{}", r.html);
                assert!(!r.html.contains("Contest <b>"), "{}", r.html);
                assert!(r.html.contains("&#60;script&#62;"), "{}", r.html);
                assert!(r.html.contains("Contest &#60;b&#62;"), "{}", r.html);
                assert!(
                    r.text.contains(evil),
                    "plain text is not escaped: {}",
                    r.text
                );
            }
        }
    }

    #[test]
    fn subjects_have_no_line_breaks() {
        let kind = MailKind::TeamInvitation {
            team: "A\r\nBcc: x@example.com".to_owned(),
            inviter: "B".to_owned(),
            url: URL.to_owned(),
        };
        let r = render(&kind, Lang::En, CONTEST_EN);
        assert!(!r.subject.contains(['\r', '\n']), "{}", r.subject);
    }

    #[test]
    fn new_mail_renders_and_records_the_kind() {
        let kind = all_kinds("An").remove(4);
        let m = new_mail(" an@example.vn ", Some("u1"), Lang::Vi, &kind, CONTEST_VI);
        assert_eq!(m.to_email, "an@example.vn");
        assert_eq!(m.to_user_id.as_deref(), Some("u1"));
        assert_eq!(m.kind, "team_invitation");
        assert_eq!(m.lang, Lang::Vi);
        assert_eq!(m.subject, render(&kind, Lang::Vi, CONTEST_VI).subject);
        assert!(m.subject.contains("“Đội An”"), "{}", m.subject);
    }
}
