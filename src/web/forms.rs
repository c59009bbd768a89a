//! Form errors for the pages: a message under each field at fault, and one for the whole form.

use crate::i18n::Lang;
use crate::service::ServiceError;

/// What went wrong with a posted form, in the page's language.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    /// A message for the whole form (shown above it); empty when none.
    pub form: String,
    fields: Vec<(&'static str, String)>,
}

impl FormErrors {
    pub fn none() -> FormErrors {
        FormErrors::default()
    }

    /// A message for the whole form.
    pub fn form(message: impl Into<String>) -> FormErrors {
        FormErrors {
            form: message.into(),
            fields: Vec::new(),
        }
    }

    /// Adds a message under `field` (the first message for a field wins).
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if !self.has(field) {
            self.fields.push((field, message.into()));
        }
    }

    pub fn has(&self, field: &str) -> bool {
        self.fields.iter().any(|(f, _)| *f == field)
    }

    /// The message under `field`, or "".
    pub fn get(&self, field: &str) -> &str {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.form.is_empty() && self.fields.is_empty()
    }

    /// Maps a refusal from a use case: invalid input to a message under each field (renamed by
    /// `rename` when the form calls the field otherwise), a conflict naming a field to that field,
    /// anything else to the whole form. Server failures are logged.
    pub fn from_service(
        err: &ServiceError,
        lang: Lang,
        rename: &[(&'static str, &'static str)],
    ) -> FormErrors {
        let field_name = |f: &'static str| {
            rename
                .iter()
                .find(|(from, _)| *from == f)
                .map_or(f, |(_, to)| *to)
        };
        let mut errors = FormErrors::none();
        match err {
            ServiceError::Invalid(list) => {
                for i in list {
                    errors.add(field_name(i.field), i.problem.message(lang == Lang::Vi));
                }
            }
            ServiceError::Conflict {
                field: Some(field), ..
            } => errors.add(field_name(field), err.message(lang)),
            ServiceError::Store(_) | ServiceError::Internal(_) => {
                tracing::error!(error = %err, "page form failed");
                errors.form = err.message(lang);
            }
            _ => errors.form = err.message(lang),
        }
        if errors.form.is_empty() && !errors.fields.is_empty() {
            errors.form = lang
                .pick(
                    "Vui lòng sửa các ô được đánh dấu bên dưới.",
                    "Please correct the marked fields below.",
                )
                .to_owned();
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::{Invalid, Problem};

    #[test]
    fn invalid_fields_get_their_own_messages() {
        let err = ServiceError::Invalid(vec![
            Invalid {
                field: "email",
                problem: Problem::BadEmail,
            },
            Invalid {
                field: "password",
                problem: Problem::TooShort(10),
            },
        ]);
        let e = FormErrors::from_service(&err, Lang::Vi, &[("password", "new_password")]);
        assert_eq!(e.get("email"), "Địa chỉ email không hợp lệ.");
        assert_eq!(e.get("new_password"), "Cần ít nhất 10 ký tự.");
        assert!(!e.has("password"));
        assert!(e.form.starts_with("Vui lòng sửa"));
    }

    #[test]
    fn other_refusals_go_to_the_form() {
        let e = FormErrors::from_service(&ServiceError::BadCredentials, Lang::En, &[]);
        assert_eq!(e.form, "Wrong email or password.");
        let e = FormErrors::from_service(
            &ServiceError::Conflict {
                code: "wrong_password",
                field: Some("current_password"),
            },
            Lang::En,
            &[],
        );
        assert_eq!(e.get("current_password"), "The current password is wrong.");
    }
}
