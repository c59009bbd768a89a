//! One JSON error shape for the whole API: RFC 9457 problem details with a machine-readable
//! `code`, a message in the caller's language, and the offending `field` where there is one.

use poem::Response;
use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::i18n::Lang;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// RFC 9457 problem details.
#[derive(Debug, Clone, Object)]
pub struct ProblemDetails {
    /// A URI naming the kind of error: `urn:dxcontest:error:<code>`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Short summary in the caller's language.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong and how to fix it, in the caller's language.
    pub detail: String,
    /// Machine-readable error code, e.g. `not_found`, `invalid_parameter`.
    pub code: String,
    /// The parameter or field at fault, when there is one.
    #[oai(skip_serializing_if_is_none)]
    pub field: Option<String>,
    /// Every field at fault with its message, when a form had several problems.
    #[oai(skip_serializing_if_is_none)]
    pub errors: Option<Vec<FieldError>>,
}

/// One field and what is wrong with it.
#[derive(Debug, Clone, Object)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every error an endpoint returns.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<ProblemDetails>),
    /// Not logged in, or the session ended.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<ProblemDetails>),
    /// Logged in, but not allowed to do this.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<ProblemDetails>),
    /// Nothing exists at this address.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<ProblemDetails>),
    /// The request conflicts with the current state.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<ProblemDetails>),
    /// A file is larger than allowed.
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<ProblemDetails>),
    /// Too many attempts; try again after `Retry-After` seconds.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Json<ProblemDetails>, #[oai(header = "Retry-After")] u64),
    /// The server failed; the request may be retried.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<ProblemDetails>),
    /// A dependency (the database) is not available.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<ProblemDetails>),
}

pub fn details(
    status: StatusCode,
    code: &str,
    title: &str,
    detail: String,
    field: Option<&str>,
) -> ProblemDetails {
    ProblemDetails {
        kind: format!("urn:dxcontest:error:{code}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        field: field.map(str::to_owned),
        errors: None,
    }
}

impl ApiError {
    pub fn invalid_parameter(lang: Lang, field: &str, detail: String) -> ApiError {
        ApiError::BadRequest(Json(details(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            lang.pick("Tham số không hợp lệ", "Invalid parameter"),
            detail,
            Some(field),
        )))
    }

    pub fn not_found(lang: Lang, detail: String) -> ApiError {
        ApiError::NotFound(Json(details(
            StatusCode::NOT_FOUND,
            "not_found",
            lang.pick("Không tìm thấy", "Not found"),
            detail,
            None,
        )))
    }

    /// Maps a use case's refusal to its status, code and message in `lang`.
    pub fn from_service(err: crate::service::ServiceError, lang: Lang) -> ApiError {
        use crate::service::ServiceError as E;
        let message = err.message(lang);
        let field = err.field();
        if let E::InEntry { cause, .. } = err {
            // The cause decides the status and code; the message names the change and entry.
            let mut inner = ApiError::from_service(*cause, lang);
            inner.details_mut().detail = message;
            return inner;
        }
        let body = |status: StatusCode, code: &str, title: &str| {
            Json(details(status, code, title, message.clone(), field))
        };
        match &err {
            E::Invalid(list)
                if list.iter().any(|i| {
                    matches!(
                        i.problem,
                        crate::domain::account::Problem::TooLargeMb(_)
                            | crate::domain::account::Problem::EntryTooLargeMb(_)
                    )
                }) =>
            {
                ApiError::PayloadTooLarge(body(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "file_too_large",
                    lang.pick("Tệp quá lớn", "File too large"),
                ))
            }
            E::Invalid(list) => {
                let mut d = details(
                    StatusCode::BAD_REQUEST,
                    "invalid_input",
                    lang.pick("Dữ liệu không hợp lệ", "Invalid input"),
                    message.clone(),
                    field,
                );
                d.errors = Some(
                    list.iter()
                        .map(|i| FieldError {
                            field: i.field.to_owned(),
                            message: i.problem.message(lang == Lang::Vi),
                        })
                        .collect(),
                );
                ApiError::BadRequest(Json(d))
            }
            E::TokenInvalid => ApiError::BadRequest(body(
                StatusCode::BAD_REQUEST,
                "token_invalid",
                lang.pick("Liên kết không hợp lệ", "Invalid link"),
            )),
            E::RateLimited { retry_after_secs } => ApiError::TooManyRequests(
                body(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    lang.pick("Quá nhiều yêu cầu", "Too many requests"),
                ),
                *retry_after_secs,
            ),
            E::BadCredentials => ApiError::Unauthorized(body(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                lang.pick("Đăng nhập thất bại", "Login failed"),
            )),
            E::Unauthenticated => ApiError::Unauthorized(body(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                lang.pick("Chưa đăng nhập", "Not logged in"),
            )),
            E::Disabled => ApiError::Forbidden(body(
                StatusCode::FORBIDDEN,
                "account_disabled",
                lang.pick("Tài khoản bị khoá", "Account disabled"),
            )),
            E::Forbidden => ApiError::Forbidden(body(
                StatusCode::FORBIDDEN,
                "forbidden",
                lang.pick("Không có quyền", "Forbidden"),
            )),
            E::NotVerified => ApiError::Forbidden(body(
                StatusCode::FORBIDDEN,
                "email_not_verified",
                lang.pick("Email chưa xác nhận", "Email not verified"),
            )),
            E::NotFound(_) => ApiError::NotFound(body(
                StatusCode::NOT_FOUND,
                "not_found",
                lang.pick("Không tìm thấy", "Not found"),
            )),
            E::Conflict { code, .. } => ApiError::Conflict(body(
                StatusCode::CONFLICT,
                code,
                lang.pick("Xung đột", "Conflict"),
            )),
            E::Transition { .. } => ApiError::Conflict(body(
                StatusCode::CONFLICT,
                "transition_not_allowed",
                lang.pick("Không thể chuyển trạng thái", "Status change not allowed"),
            )),
            // Handled above.
            E::InEntry { .. } => ApiError::internal(lang, &err),
            E::Store(_) | E::Internal(_) => ApiError::internal(lang, &err),
        }
    }

    /// The problem details inside, whatever the status.
    pub fn details_mut(&mut self) -> &mut ProblemDetails {
        match self {
            ApiError::BadRequest(j)
            | ApiError::Unauthorized(j)
            | ApiError::Forbidden(j)
            | ApiError::NotFound(j)
            | ApiError::Conflict(j)
            | ApiError::PayloadTooLarge(j)
            | ApiError::TooManyRequests(j, _)
            | ApiError::Internal(j)
            | ApiError::Unavailable(j) => &mut j.0,
        }
    }

    /// Logs the cause and answers without revealing it.
    pub fn internal(lang: Lang, cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::Internal(Json(details(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            lang.pick("Lỗi máy chủ", "Server error"),
            lang.pick(
                "Máy chủ gặp lỗi khi xử lý yêu cầu. Vui lòng thử lại sau.",
                "The server failed to handle the request. Please try again later.",
            )
            .to_owned(),
            None,
        )))
    }
}

/// Turns any error that reached the edge of `/api` into problem details in `lang`: unknown routes,
/// wrong methods, unparsable parameters and bodies, and errors our handlers already shaped.
pub fn to_problem_response(err: poem::Error, lang: Lang) -> Response {
    use poem::error::{MethodNotAllowedError, NotFoundError};
    use poem_openapi::error::{ParseParamError, ParsePathError};

    let status = err.status();
    let body = if err.is::<NotFoundError>() {
        details(
            StatusCode::NOT_FOUND,
            "route_not_found",
            lang.pick("Không tìm thấy", "Not found"),
            lang.pick(
                "Không có địa chỉ API này. Xem tài liệu tại /api/docs.",
                "There is no such API address. See the documentation at /api/docs.",
            )
            .to_owned(),
            None,
        )
    } else if err.is::<MethodNotAllowedError>() {
        details(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            lang.pick("Phương thức không được hỗ trợ", "Method not allowed"),
            lang.pick(
                "Địa chỉ này không nhận phương thức HTTP đã dùng.",
                "This address does not accept the HTTP method used.",
            )
            .to_owned(),
            None,
        )
    } else if let Some(p) = err.downcast_ref::<ParsePathError>() {
        // poem-openapi names path parameters by position internally, so the name is not ours.
        details(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            lang.pick("Tham số không hợp lệ", "Invalid parameter"),
            match lang {
                Lang::Vi => format!("Một phần của địa chỉ không hợp lệ ({}).", p.reason),
                Lang::En => format!("Part of the address is invalid ({}).", p.reason),
            },
            None,
        )
    } else if let Some(p) = err.downcast_ref::<ParseParamError>() {
        let detail = parameter_message(p.name, &p.reason, lang);
        details(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            lang.pick("Tham số không hợp lệ", "Invalid parameter"),
            detail,
            Some(p.name),
        )
    } else {
        // Our own ApiError and any other poem error: keep a problem body that is already shaped.
        let resp = err.into_response();
        let shaped = resp
            .headers()
            .get(poem::http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
        if shaped {
            return resp;
        }
        if status == StatusCode::UNAUTHORIZED {
            return problem_response(&details(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                lang.pick("Chưa đăng nhập", "Not logged in"),
                lang.pick(
                    "Vui lòng đăng nhập: gửi mã phiên trong tiêu đề `Authorization: Bearer <token>`.",
                    "Please log in: send the session token in the `Authorization: Bearer <token>` header.",
                )
                .to_owned(),
                None,
            ));
        }
        let (code, title) = if status.is_server_error() {
            ("internal", lang.pick("Lỗi máy chủ", "Server error"))
        } else {
            (
                "bad_request",
                lang.pick("Yêu cầu không hợp lệ", "Bad request"),
            )
        };
        let reason = status.canonical_reason().unwrap_or("error");
        let detail = match lang {
            Lang::Vi => format!(
                "Yêu cầu không được chấp nhận ({} {reason}).",
                status.as_u16()
            ),
            Lang::En => format!(
                "The request was not accepted ({} {reason}).",
                status.as_u16()
            ),
        };
        details(status, code, title, detail, None)
    };
    problem_response(&body)
}

/// A readable message for a parameter that did not parse, naming it and what it must be.
fn parameter_message(name: &str, reason: &str, lang: Lang) -> String {
    use crate::domain::problem::{Field, Group};
    let allowed = match name {
        "field" => Some(Field::codes()),
        "group" => Some(Group::codes()),
        _ => None,
    };
    match (allowed, reason.contains("integer"), lang) {
        (Some(list), _, Lang::Vi) => format!("Tham số `{name}` phải là một trong: {list}."),
        (Some(list), _, Lang::En) => format!("Parameter `{name}` must be one of: {list}."),
        (None, true, Lang::Vi) => format!("Tham số `{name}` phải là một số nguyên dương."),
        (None, true, Lang::En) => format!("Parameter `{name}` must be a positive whole number."),
        (None, false, Lang::Vi) => format!("Giá trị của tham số `{name}` không hợp lệ ({reason})."),
        (None, false, Lang::En) => {
            format!("The value of parameter `{name}` is invalid ({reason}).")
        }
    }
}

/// A problem-details response with the right status and content type.
pub fn problem_response(body: &ProblemDetails) -> Response {
    let status = StatusCode::from_u16(body.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut json = serde_json::json!({
        "type": body.kind,
        "title": body.title,
        "status": body.status,
        "detail": body.detail,
        "code": body.code,
    });
    if let Some(map) = json.as_object_mut() {
        if let Some(field) = &body.field {
            map.insert("field".into(), field.clone().into());
        }
        if let Some(errors) = &body.errors {
            let list = errors
                .iter()
                .map(|e| serde_json::json!({"field": e.field, "message": e.message}))
                .collect::<Vec<_>>();
            map.insert("errors".into(), list.into());
        }
    }
    Response::builder()
        .status(status)
        .content_type(PROBLEM_JSON)
        .body(json.to_string())
}
