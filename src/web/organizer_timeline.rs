//! The organizers' timeline page: the timeline in force (Vietnam time), where it comes from, the
//! server's clock and the submission window now; a form that replaces it; the teams' extensions
//! with a form to grant one and a button to revoke each. Anonymous visitors are sent to the login
//! page; other accounts get a 403 page. The rules are the services' (`service::timeline`), as for
//! the API; this page only reads the `datetime-local` fields as Vietnam time.

use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::forms::FormErrors;
use super::pages::{Chrome, ContestNames};
use super::session::Posted;
use super::view::{Page, PageError, render, see_other, service_status};
use crate::domain::authz::Action;
use crate::domain::time::Millis;
use crate::domain::timeline::{MAX_GRACE_MS, SubmitWindow, Timeline};
use crate::i18n::Lang;
use crate::service::timeline::{self, TimelineInput, TimelineView};
use crate::service::{Actor, Ctx, ServiceError};

type PageResult = Result<Response, PageError>;

const HERE: &str = "/organizer/timeline";

/// The longest grace period, in minutes (the domain's limit).
const MAX_GRACE_MINUTES: i64 = MAX_GRACE_MS / 60_000;

/// The names of the fields, shown as labels and in the messages that name a field.
pub struct Labels {
    pub registration_opens: &'static str,
    pub registration_closes: &'static str,
    pub submission_opens: &'static str,
    pub submission_deadline: &'static str,
    pub grace_minutes: &'static str,
    pub team_id: &'static str,
    pub deadline: &'static str,
    pub reason: &'static str,
}

impl Labels {
    fn new(lang: Lang) -> Labels {
        Labels {
            registration_opens: lang.pick("Mở đăng ký", "Registration opens"),
            registration_closes: lang.pick("Đóng đăng ký", "Registration closes"),
            submission_opens: lang.pick("Mở nhận bài", "Submissions open"),
            submission_deadline: lang.pick("Hạn nộp bài", "Submission deadline"),
            grace_minutes: lang.pick("Thời gian ân hạn (phút)", "Grace period (minutes)"),
            team_id: lang.pick("Mã đội", "Team id"),
            deadline: lang.pick("Hạn nộp mới của đội", "The team's new deadline"),
            reason: lang.pick("Lý do", "Reason"),
        }
    }
}

fn when(ms: i64) -> String {
    Millis(ms).display_ict()
}

fn fix_fields(lang: Lang) -> String {
    lang.pick(
        "Vui lòng sửa các ô được đánh dấu bên dưới.",
        "Please correct the marked fields below.",
    )
    .to_owned()
}

/// A refusal from the timeline services: each invalid field gets its message, with the fields it
/// names (`registration_opens`…) shown by their labels; anything else as `FormErrors` maps it.
fn service_errors(e: &ServiceError, lang: Lang) -> FormErrors {
    let ServiceError::Invalid(list) = e else {
        return FormErrors::from_service(e, lang, &[]);
    };
    let l = Labels::new(lang);
    let names = [
        ("registration_opens", l.registration_opens),
        ("registration_closes", l.registration_closes),
        ("submission_opens", l.submission_opens),
        ("submission_deadline", l.submission_deadline),
        ("grace_minutes", l.grace_minutes),
    ];
    let mut errors = FormErrors::form(fix_fields(lang));
    for i in list {
        let mut message = i.problem.message(lang == Lang::Vi);
        for (raw, label) in names {
            message = message.replace(raw, &format!("“{label}”"));
        }
        errors.add(i.field, message);
    }
    errors
}

/// A `datetime-local` value read as Vietnam time; a message naming the field when it is empty or
/// does not parse.
fn instant(value: &str, label: &str, lang: Lang) -> Result<i64, String> {
    if value.trim().is_empty() {
        return Err(match lang {
            Lang::Vi => format!("Hãy nhập ngày giờ cho “{label}”."),
            Lang::En => format!("Enter a date and time for “{label}”."),
        });
    }
    Millis::parse_datetime_local_ict(value)
        .map(|m| m.0)
        .ok_or_else(|| match lang {
            Lang::Vi => format!(
                "“{label}” không phải ngày giờ hợp lệ (ví dụ: 2027-03-31T17:00, giờ Việt Nam)."
            ),
            Lang::En => format!(
                "“{label}” is not a valid date and time (e.g. 2027-03-31T17:00, Vietnam time)."
            ),
        })
}

/// Whole minutes; a message naming the field otherwise (the range is the service's to check).
fn minutes(value: &str, label: &str, lang: Lang) -> Result<i64, String> {
    value.trim().parse::<i64>().map_err(|_| match lang {
        Lang::Vi => format!("“{label}” phải là một số phút nguyên, từ 0 đến {MAX_GRACE_MINUTES}."),
        Lang::En => {
            format!("“{label}” must be a whole number of minutes, from 0 to {MAX_GRACE_MINUTES}.")
        }
    })
}

// --- Forms ------------------------------------------------------------------------------------

/// The timeline form, as sent and as shown again (`datetime-local` values in Vietnam time).
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default)]
pub struct TimelineForm {
    registration_opens: String,
    registration_closes: String,
    submission_opens: String,
    submission_deadline: String,
    grace_minutes: String,
}

impl TimelineForm {
    /// The timeline in force, to edit.
    fn of(t: &Timeline) -> TimelineForm {
        let local = |ms: i64| Millis(ms).datetime_local_ict();
        TimelineForm {
            registration_opens: local(t.registration_opens()),
            registration_closes: local(t.registration_closes()),
            submission_opens: local(t.submission_opens()),
            submission_deadline: local(t.submission_deadline()),
            grace_minutes: (t.grace_ms() / 60_000).to_string(),
        }
    }

    /// The instants, or an error under each field that does not parse.
    fn parse(&self, lang: Lang) -> Result<TimelineInput, FormErrors> {
        let l = Labels::new(lang);
        let mut errors = FormErrors::none();
        let mut take = |field: &'static str, r: Result<i64, String>| match r {
            Ok(v) => v,
            Err(message) => {
                errors.add(field, message);
                0
            }
        };
        let input = TimelineInput {
            registration_opens: take(
                "registration_opens",
                instant(&self.registration_opens, l.registration_opens, lang),
            ),
            registration_closes: take(
                "registration_closes",
                instant(&self.registration_closes, l.registration_closes, lang),
            ),
            submission_opens: take(
                "submission_opens",
                instant(&self.submission_opens, l.submission_opens, lang),
            ),
            submission_deadline: take(
                "submission_deadline",
                instant(&self.submission_deadline, l.submission_deadline, lang),
            ),
            grace_minutes: take(
                "grace_minutes",
                minutes(&self.grace_minutes, l.grace_minutes, lang),
            ),
        };
        if errors.is_empty() {
            Ok(input)
        } else {
            errors.form = fix_fields(lang);
            Err(errors)
        }
    }
}

/// The form that grants an extension.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default)]
pub struct GrantForm {
    team_id: String,
    deadline: String,
    reason: String,
}

/// The revoke button of one extension.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default)]
pub struct RevokeForm {
    team_id: String,
}

// --- The page ---------------------------------------------------------------------------------

pub struct ExtensionRow {
    pub team_id: String,
    pub team_name: String,
    pub deadline: String,
    /// The deadline plus the grace period: the last instant the team's submits are accepted.
    pub closes: String,
    /// Not later than the contest's deadline any more (the timeline moved): no effect.
    pub moot: bool,
    pub reason: String,
    pub granted_at: String,
}

#[derive(Template)]
#[template(path = "organizer_timeline.html")]
struct TimelinePage {
    chrome: Chrome,
    flash: String,
    l: Labels,
    saved: bool,
    registration_opens: String,
    registration_closes: String,
    submission_opens: String,
    submission_deadline: String,
    grace_minutes: i64,
    closes: String,
    now: String,
    registration_open: bool,
    window: String,
    window_code: &'static str,
    window_class: &'static str,
    form: TimelineForm,
    errors: FormErrors,
    max_grace: i64,
    extensions: Vec<ExtensionRow>,
    list_errors: FormErrors,
    grant: GrantForm,
    grant_errors: FormErrors,
}

/// What a post sends back to the page when it is refused.
#[derive(Default)]
struct Refused {
    timeline: Option<(TimelineForm, FormErrors)>,
    grant: Option<(GrantForm, FormErrors)>,
    list_errors: FormErrors,
}

fn window_text(v: &TimelineView, lang: Lang) -> (String, &'static str, &'static str) {
    let t = &v.timeline;
    let w = t.window(v.now, None);
    let (code, class) = match w {
        SubmitWindow::NotOpen => ("not_open", "queued"),
        SubmitWindow::Open => ("open", "ok"),
        SubmitWindow::Grace => ("grace", "queued"),
        SubmitWindow::Closed => ("closed", "bad"),
    };
    let opens = when(t.submission_opens());
    let deadline = when(t.submission_deadline());
    let closes = when(t.closes_for(None));
    let text = match (w, lang) {
        (SubmitWindow::NotOpen, Lang::Vi) => format!("Chưa mở nhận bài: mở lúc {opens}."),
        (SubmitWindow::NotOpen, Lang::En) => {
            format!("Submissions are not open yet: they open on {opens}.")
        }
        (SubmitWindow::Open, Lang::Vi) => format!("Đang nhận bài, hạn nộp {deadline}."),
        (SubmitWindow::Open, Lang::En) => format!("Submissions are open until {deadline}."),
        (SubmitWindow::Grace, Lang::Vi) => format!(
            "Đã qua hạn nộp; đang trong thời gian ân hạn đến {closes}: bài nộp được nhận nhưng bị đánh dấu nộp muộn."
        ),
        (SubmitWindow::Grace, Lang::En) => format!(
            "The deadline has passed; in the grace period until {closes}: submits are accepted and marked late."
        ),
        (SubmitWindow::Closed, Lang::Vi) => {
            format!("Đã đóng nhận bài (từ {closes}), trừ các đội được gia hạn.")
        }
        (SubmitWindow::Closed, Lang::En) => {
            format!("Submissions are closed (since {closes}), except for teams with an extension.")
        }
    };
    (text, code, class)
}

fn flash(code: &str, lang: Lang) -> &'static str {
    match code {
        "saved" => lang.pick(
            "Đã lưu mốc thời gian mới; từ giờ mốc này được áp dụng thay cho tệp cấu hình.",
            "The new timeline is saved; it now applies instead of the configuration's.",
        ),
        "granted" => lang.pick("Đã gia hạn cho đội.", "The extension is granted."),
        "revoked" => lang.pick(
            "Đã thu hồi gia hạn; đội trở lại hạn nộp chung.",
            "The extension is revoked; the team is back on the contest's deadline.",
        ),
        _ => "",
    }
}

async fn timeline_page(
    ctx: &Ctx,
    page: Page,
    actor: &Actor,
    status: StatusCode,
    flash_code: &str,
    refused: Refused,
) -> PageResult {
    let lang = page.lang;
    let view = timeline::current(ctx).await?;
    let list = timeline::extensions(ctx, actor).await?;
    let t = view.timeline;
    let extensions = list
        .into_iter()
        .map(|x| ExtensionRow {
            deadline: when(x.deadline_at),
            closes: when(t.closes_for(Some(x.deadline_at))),
            moot: x.deadline_at <= t.submission_deadline(),
            granted_at: when(x.granted_at),
            team_id: x.team_id,
            team_name: x.team_name,
            reason: x.reason,
        })
        .collect();
    let (window, window_code, window_class) = window_text(&view, lang);
    let (form, errors) = refused
        .timeline
        .unwrap_or_else(|| (TimelineForm::of(&t), FormErrors::none()));
    let (grant_form, grant_errors) = refused.grant.unwrap_or_default();
    Ok(render(
        status,
        &TimelinePage {
            flash: flash(flash_code, lang).to_owned(),
            l: Labels::new(lang),
            saved: view.saved,
            registration_opens: when(t.registration_opens()),
            registration_closes: when(t.registration_closes()),
            submission_opens: when(t.submission_opens()),
            submission_deadline: when(t.submission_deadline()),
            grace_minutes: t.grace_ms() / 60_000,
            closes: when(t.closes_for(None)),
            now: when(view.now),
            registration_open: t.registration_open(view.now),
            window,
            window_code,
            window_class,
            form,
            errors,
            max_grace: MAX_GRACE_MINUTES,
            extensions,
            list_errors: refused.list_errors,
            grant: grant_form,
            grant_errors,
            chrome: page.chrome,
        },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TimelineQuery {
    m: String,
    /// A team id to put in the grant form.
    team: String,
}

/// `GET /organizer/timeline`.
#[handler]
pub async fn show(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Query(q): Query<TimelineQuery>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_to(Action::ManageEntries)?.clone();
    let refused = Refused {
        grant: (!q.team.trim().is_empty()).then(|| {
            (
                GrantForm {
                    team_id: q.team.trim().to_owned(),
                    ..GrantForm::default()
                },
                FormErrors::none(),
            )
        }),
        ..Refused::default()
    };
    timeline_page(&ctx, page, &actor, StatusCode::OK, &q.m, refused).await
}

/// `POST /organizer/timeline`: replaces the timeline.
#[handler]
pub async fn save(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<TimelineForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_back_to(HERE, Action::ManageEntries)?.clone();
    let lang = page.lang;
    let (errors, status) = match form.parse(lang) {
        Err(errors) => (errors, StatusCode::UNPROCESSABLE_ENTITY),
        Ok(input) => match timeline::set(&ctx, &actor, input).await {
            Ok(_) => return Ok(see_other(&format!("{HERE}?m=saved"))),
            Err(e) => (service_errors(&e, lang), service_status(&e)),
        },
    };
    let refused = Refused {
        timeline: Some((form, errors)),
        ..Refused::default()
    };
    timeline_page(&ctx, page, &actor, status, "", refused).await
}

/// `POST /organizer/timeline/extensions`: gives one team a later deadline.
#[handler]
pub async fn grant(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(mut form): Posted<GrantForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_back_to(HERE, Action::ManageEntries)?.clone();
    let lang = page.lang;
    let l = Labels::new(lang);
    form.team_id = form.team_id.trim().to_owned();
    let mut errors = FormErrors::none();
    if form.team_id.is_empty() {
        errors.add(
            "team_id",
            match lang {
                Lang::Vi => format!("Hãy nhập “{}”.", l.team_id),
                Lang::En => format!("Enter the “{}”.", l.team_id),
            },
        );
    }
    let deadline = instant(&form.deadline, l.deadline, lang)
        .map_err(|message| errors.add("deadline", message))
        .ok();
    let status = match deadline {
        Some(deadline) if errors.is_empty() => {
            match timeline::grant_extension(&ctx, &actor, &form.team_id, deadline, &form.reason)
                .await
            {
                Ok(_) => return Ok(see_other(&format!("{HERE}?m=granted"))),
                Err(ServiceError::NotFound("team")) => {
                    errors.add(
                        "team_id",
                        lang.pick("Không có đội nào có mã này.", "No team has this id."),
                    );
                    errors.form = fix_fields(lang);
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                Err(e) => {
                    errors = service_errors(&e, lang);
                    service_status(&e)
                }
            }
        }
        _ => {
            errors.form = fix_fields(lang);
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    let refused = Refused {
        grant: Some((form, errors)),
        ..Refused::default()
    };
    timeline_page(&ctx, page, &actor, status, "", refused).await
}

/// `POST /organizer/timeline/extensions/revoke`: the team is back on the contest's deadline.
#[handler]
pub async fn revoke(
    req: &Request,
    ctx: Data<&Ctx>,
    names: Data<&ContestNames>,
    Posted(form): Posted<RevokeForm>,
) -> PageResult {
    let page = Page::load(req, &ctx, &names).await?;
    let actor = page.allowed_back_to(HERE, Action::ManageEntries)?.clone();
    let lang = page.lang;
    match timeline::revoke_extension(&ctx, &actor, form.team_id.trim()).await {
        Ok(()) => Ok(see_other(&format!("{HERE}?m=revoked"))),
        Err(e) => {
            let message = match &e {
                ServiceError::NotFound(_) => lang
                    .pick(
                        "Đội này không có gia hạn nào (có thể đã được thu hồi).",
                        "This team has no extension (it may have been revoked already).",
                    )
                    .to_owned(),
                other => other.message(lang),
            };
            let refused = Refused {
                list_errors: FormErrors::form(message),
                ..Refused::default()
            };
            timeline_page(&ctx, page, &actor, service_status(&e), "", refused).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_as_vietnam_time_and_named_when_wrong() {
        let form = TimelineForm {
            registration_opens: "2022-07-22T08:00".into(),
            registration_closes: "2022-08-01T08:00".into(),
            submission_opens: "2022-07-22T08:00:00".into(),
            submission_deadline: "2022-09-01T08:00".into(),
            grace_minutes: " 30 ".into(),
        };
        let input = form.parse(Lang::Vi).expect("parses");
        assert_eq!(input.registration_opens, 1_658_451_600_000);
        assert_eq!(input.submission_opens, 1_658_451_600_000);
        assert_eq!(input.grace_minutes, 30);

        let bad = TimelineForm {
            submission_deadline: "01/09/2022".into(),
            grace_minutes: "nửa giờ".into(),
            registration_opens: String::new(),
            ..form
        };
        let errors = bad.parse(Lang::En).expect_err("refused");
        assert!(
            errors
                .get("submission_deadline")
                .contains("Submission deadline")
        );
        assert!(errors.get("grace_minutes").contains("Grace period"));
        assert!(
            errors
                .get("registration_opens")
                .contains("Registration opens")
        );
        assert!(!errors.has("registration_closes"));
        assert!(!errors.form.is_empty());
        let vi = bad.parse(Lang::Vi).expect_err("refused");
        assert!(vi.get("submission_deadline").contains("Hạn nộp bài"));
    }

    #[test]
    fn service_refusals_name_fields_by_their_labels() {
        let err = ServiceError::Invalid(vec![crate::domain::account::Invalid {
            field: "registration_closes",
            problem: crate::domain::account::Problem::NotAllowed("registration_opens".into()),
        }]);
        let e = service_errors(&err, Lang::En);
        assert!(
            e.get("registration_closes")
                .contains("“Registration opens”"),
            "{e:?}"
        );
        assert!(!e.form.is_empty());
        let e = service_errors(&ServiceError::NotFound("extension"), Lang::Vi);
        assert!(!e.form.is_empty() && !e.has("team_id"));
    }

    #[test]
    fn the_form_shows_the_timeline_in_vietnam_time() {
        let t = Timeline::new(
            1_658_451_600_000,
            1_659_312_000_000,
            1_658_451_600_000,
            1_661_994_000_000,
            15 * 60_000,
        )
        .expect("valid");
        let f = TimelineForm::of(&t);
        assert_eq!(f.registration_opens, "2022-07-22T08:00");
        assert_eq!(f.grace_minutes, "15");
        assert_eq!(
            f.parse(Lang::Vi).expect("round trip").registration_closes,
            1_659_312_000_000
        );
    }
}
