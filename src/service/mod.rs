//! Use cases. The API and the pages both call these, so no rule is written twice.

pub mod accounts;
pub mod admin;
pub mod catalog;
pub mod entries;
pub mod problems;
pub mod teams;
pub mod timeline;

use std::sync::Arc;

use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::config::Config;
use crate::domain::account::{Invalid, Role};
use crate::domain::authz::{self, Action};
use crate::i18n::Lang;
use crate::store::accounts::{AuditEntry, UserRecord, hit_rate_limit, record_audit};
use crate::store::{Store, StoreError, Tx, new_id};

/// The server's clock: milliseconds since the Unix epoch, UTC. The server's clock decides.
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// When a request reached the server (milliseconds UTC), set by the HTTP edge before any
/// waiting. Deadlines are judged at this instant, so a submit that arrived in time is not
/// refused because it then queued for the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedAt(pub i64);

impl ReceivedAt {
    /// The instant stored in a request's extensions, or now.
    pub fn of(extensions: &poem::http::Extensions) -> i64 {
        extensions.get::<ReceivedAt>().map_or_else(now_ms, |r| r.0)
    }
}

/// What every use case needs: the store, the settings, and a way to wake the mail dispatcher.
#[derive(Clone)]
pub struct Ctx {
    pub store: Store,
    pub config: Arc<Config>,
    pub mail_wake: Arc<Notify>,
    /// Where attachments are stored.
    pub files: Arc<dyn crate::files::FileStore>,
}

impl Ctx {
    /// A context with attachments on local disk under `entries.storage_dir`.
    pub fn new(store: Store, config: Arc<Config>, mail_wake: Arc<Notify>) -> std::io::Result<Ctx> {
        let files = crate::files::LocalDisk::open_dir(&config.entries.storage_dir)?;
        // Uploads in progress when a previous process stopped are incomplete; drop them.
        let swept = files.sweep_tmp()?;
        if swept > 0 {
            tracing::info!(swept, "removed incomplete uploads left by an earlier run");
        }
        Ok(Ctx {
            store,
            config,
            mail_wake,
            files: Arc::new(files),
        })
    }

    pub fn contest_name(&self, lang: Lang) -> &str {
        lang.pick(&self.config.contest.name_vi, &self.config.contest.name_en)
    }

    /// An absolute link for emails.
    pub fn link(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.config.server.public_base_url)
    }

    /// Renders `kind` in `lang` and queues it in `tx`, so the mail commits or rolls back with the
    /// change that causes it. Call [`Ctx::mail_committed`] after the commit.
    pub async fn queue_mail(
        &self,
        tx: &mut Tx,
        to: &str,
        to_user_id: Option<&str>,
        lang: Lang,
        kind: &crate::mail::templates::MailKind,
    ) -> ServiceResult<()> {
        let mail =
            crate::mail::templates::new_mail(to, to_user_id, lang, kind, self.contest_name(lang));
        crate::store::outbox::enqueue_mail(tx, &mail).await?;
        Ok(())
    }

    /// Tells the dispatcher that mail was committed.
    pub fn mail_committed(&self) {
        self.mail_wake.notify_one();
    }
}

/// Who is acting, as established by a session.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: UserRecord,
    /// Hash of the session token in use.
    pub session: String,
    pub ip: Option<String>,
    /// When the request reached the server (see [`ReceivedAt`]).
    pub received_at: i64,
}

impl Actor {
    pub fn require(&self, action: Action) -> Result<(), ServiceError> {
        if authz::allowed(Some(self.user.role), action) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    pub fn role(&self) -> Role {
        self.user.role
    }
}

/// Every way a use case can refuse. Each maps to one HTTP status and one message per language.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input: {0:?}")]
    Invalid(Vec<Invalid>),
    #[error("too many attempts; retry after {retry_after_secs}s")]
    RateLimited { retry_after_secs: u64 },
    #[error("wrong email or password")]
    BadCredentials,
    #[error("the account is disabled")]
    Disabled,
    #[error("the link is invalid, expired or already used")]
    TokenInvalid,
    #[error("not logged in")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("email address not verified yet")]
    NotVerified,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A rule about the current state refused the change; `field` names the input at fault.
    #[error("conflict: {code}")]
    Conflict {
        code: &'static str,
        field: Option<&'static str>,
    },
    /// The entry's status does not allow this change.
    #[error("an entry cannot go from {from:?} to {to:?}")]
    Transition {
        from: crate::domain::entry::EntryStatus,
        to: crate::domain::entry::EntryStatus,
    },
    /// One change of a bulk request was refused; nothing was changed.
    #[error("change {index} (entry {entry_id}): {cause}")]
    InEntry {
        index: usize,
        entry_id: String,
        cause: Box<ServiceError>,
    },
    #[error(transparent)]
    Store(StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::EmailTaken => ServiceError::Conflict {
                code: "email_taken",
                field: Some("email"),
            },
            other => ServiceError::Store(other),
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Store(StoreError::Db(e))
    }
}

impl From<Invalid> for ServiceError {
    fn from(i: Invalid) -> Self {
        ServiceError::Invalid(vec![i])
    }
}

impl ServiceError {
    /// The message for people, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        let pick = |v: &str, e: &str| if vi { v.to_owned() } else { e.to_owned() };
        match self {
            ServiceError::Invalid(list) => list
                .iter()
                .map(|i| format!("{}: {}", i.field, i.problem.message(vi)))
                .collect::<Vec<_>>()
                .join(" "),
            ServiceError::RateLimited { retry_after_secs } => {
                let minutes = retry_after_secs.div_ceil(60);
                if vi {
                    format!("Bạn đã thử quá nhiều lần. Vui lòng thử lại sau {minutes} phút.")
                } else {
                    format!("Too many attempts. Please try again in {minutes} minutes.")
                }
            }
            ServiceError::BadCredentials => pick(
                "Email hoặc mật khẩu không đúng.",
                "Wrong email or password.",
            ),
            ServiceError::Disabled => pick(
                "Tài khoản này đã bị khoá. Vui lòng liên hệ ban tổ chức.",
                "This account is disabled. Please contact the organizers.",
            ),
            ServiceError::TokenInvalid => pick(
                "Liên kết không hợp lệ, đã hết hạn hoặc đã được dùng.",
                "This link is invalid, has expired or was already used.",
            ),
            ServiceError::Unauthenticated => pick("Vui lòng đăng nhập.", "Please log in."),
            ServiceError::Forbidden => pick(
                "Bạn không có quyền làm việc này.",
                "You are not allowed to do this.",
            ),
            ServiceError::NotVerified => pick(
                "Vui lòng xác nhận địa chỉ email trước (xem thư chúng tôi đã gửi).",
                "Please verify your email address first (see the message we sent).",
            ),
            ServiceError::NotFound(what) => {
                if vi {
                    format!("Không tìm thấy ({what}).")
                } else {
                    format!("Not found ({what}).")
                }
            }
            ServiceError::Conflict { code, .. } => conflict_message(code, vi),
            ServiceError::Transition { from, to } => {
                if vi {
                    format!(
                        "Không thể chuyển bài dự thi từ “{}” sang “{}”.",
                        from.name_vi(),
                        to.name_vi()
                    )
                } else {
                    format!(
                        "An entry cannot go from “{}” to “{}”.",
                        from.name_en(),
                        to.name_en()
                    )
                }
            }
            ServiceError::InEntry {
                index,
                entry_id,
                cause,
            } => {
                let inner = cause.message(lang);
                if vi {
                    format!(
                        "Thay đổi thứ {} (bài dự thi {entry_id}) bị từ chối: {inner} Không có thay đổi nào được lưu.",
                        index + 1
                    )
                } else {
                    format!(
                        "Change {} (entry {entry_id}) was refused: {inner} Nothing was changed.",
                        index + 1
                    )
                }
            }
            ServiceError::Store(_) | ServiceError::Internal(_) => pick(
                "Máy chủ gặp lỗi. Vui lòng thử lại sau.",
                "The server failed. Please try again later.",
            ),
        }
    }

    /// The first input field at fault, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ServiceError::Invalid(list) => list.first().map(|i| i.field),
            ServiceError::Conflict { field, .. } => *field,
            ServiceError::InEntry { cause, .. } => cause.field(),
            _ => None,
        }
    }
}

fn conflict_message(code: &str, vi: bool) -> String {
    let (v, e) = match code {
        "email_taken" => (
            "Địa chỉ email này đã được dùng cho tài khoản khác.",
            "This email address is used by another account.",
        ),
        "wrong_password" => (
            "Mật khẩu hiện tại không đúng.",
            "The current password is wrong.",
        ),
        "already_in_team" => ("Bạn đã ở trong một đội thi.", "You are already in a team."),
        "team_name_taken" => (
            "Tên đội đã được dùng (không phân biệt hoa thường và dấu).",
            "This team name is taken (ignoring case and accents).",
        ),
        "team_full" => (
            "Đội đã đủ số thành viên tối đa.",
            "The team already has the most members allowed.",
        ),
        "team_too_small" => (
            "Đội sẽ ít hơn số thành viên tối thiểu.",
            "The team would have fewer members than allowed.",
        ),
        "not_leader" => (
            "Chỉ trưởng nhóm mới làm được việc này.",
            "Only the team leader can do this.",
        ),
        "leader_must_hand_over" => (
            "Trưởng nhóm cần chuyển quyền trưởng nhóm trước khi rời đội.",
            "The leader must hand over leadership before leaving.",
        ),
        "not_member" => (
            "Người này không ở trong đội.",
            "This person is not in the team.",
        ),
        "invitation_email_mismatch" => (
            "Lời mời này gửi tới một địa chỉ email khác.",
            "This invitation was sent to another email address.",
        ),
        "already_organizer" => (
            "Tài khoản này đã là ban tổ chức.",
            "This account is already an organizer.",
        ),
        "cannot_disable_self" => (
            "Bạn không thể tự khoá tài khoản của mình.",
            "You cannot disable your own account.",
        ),
        "registration_closed" => (
            "Ngoài thời gian đăng ký dự thi.",
            "Registration is not open.",
        ),
        "no_team" => (
            "Bạn cần tham gia hoặc tạo một đội trước.",
            "You need to create or join a team first.",
        ),
        "entry_exists" => (
            "Đội đã có bài dự thi cho bài toán này.",
            "Your team already has an entry for this problem.",
        ),
        "too_many_entries" => (
            "Đội đã tham gia số bài toán tối đa.",
            "Your team has entered the most problems allowed.",
        ),
        "drafts_closed" => (
            "Chưa đến hoặc đã hết thời gian soạn bài dự thi.",
            "Entries cannot be written now: the contest has not opened or has closed.",
        ),
        "submissions_not_open" => (
            "Chưa đến thời gian nộp bài.",
            "Submissions are not open yet.",
        ),
        "deadline_passed" => (
            "Đã hết hạn nộp bài (theo đồng hồ máy chủ). Bài dự thi không thể thay đổi nữa.",
            "The submission deadline has passed (by the server's clock). The entry can no longer be changed.",
        ),
        "withdraw_after_deadline" => (
            "Chỉ có thể rút bài trước hạn chót.",
            "An entry can only be withdrawn before the deadline.",
        ),
        "not_editable" => (
            "Bài dự thi ở trạng thái hiện tại không thể chỉnh sửa.",
            "The entry cannot be changed in its current status.",
        ),
        "already_submitted" => (
            "Bài dự thi đã được nộp nên không thể xoá; hãy rút bài nếu cần.",
            "The entry was submitted, so it cannot be deleted; withdraw it instead.",
        ),
        _ => (
            "Yêu cầu mâu thuẫn với trạng thái hiện tại.",
            "The request conflicts with the current state.",
        ),
    };
    if vi { v.to_owned() } else { e.to_owned() }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// A random token for links and sessions (256 bits, URL-safe), and the hash that is stored.
pub fn new_token() -> (String, String) {
    let bytes: [u8; 32] = rand::random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Records a change in the audit log, inside the change's transaction.
#[allow(clippy::too_many_arguments)]
pub async fn audit(
    tx: &mut Tx,
    actor_id: Option<&str>,
    ip: Option<&str>,
    action: &str,
    subject_type: &str,
    subject_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> ServiceResult<()> {
    let entry = AuditEntry {
        id: new_id(),
        at: now_ms(),
        actor_id: actor_id.map(str::to_owned),
        ip: ip.map(str::to_owned),
        action: action.to_owned(),
        subject_type: subject_type.to_owned(),
        subject_id: subject_id.to_owned(),
        before: before.map(|v| v.to_string()),
        after: after.map(|v| v.to_string()),
    };
    record_audit(&mut **tx, &entry).await?;
    Ok(())
}

/// Counts an attempt against a limit shared by every instance; refuses when over it.
pub async fn rate_limit(ctx: &Ctx, bucket: &str, limit: u32) -> ServiceResult<()> {
    let window_ms =
        i64::try_from(ctx.config.rate_limits.window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let now = now_ms();
    let window_start = now - now.rem_euclid(window_ms);
    let hits = hit_rate_limit(ctx.store.pool(), bucket, window_start).await?;
    if hits > i64::from(limit) {
        let retry_after_ms = window_start + window_ms - now;
        return Err(ServiceError::RateLimited {
            retry_after_secs: u64::try_from(retry_after_ms.div_euclid(1000) + 1).unwrap_or(1),
        });
    }
    Ok(())
}
