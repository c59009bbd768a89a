//! The contest timeline: when registration opens and closes, when submissions open, the
//! submission deadline and its grace period, and per-team extensions. All instants are integer
//! milliseconds UTC; the server's clock decides.
//!
//! - A team's *deadline* is the contest deadline, or its extension when it has a later one.
//! - Submits up to the deadline (inclusive) are on time. After it, and until the deadline plus
//!   the grace period (inclusive), they are accepted and flagged late. After that, nothing is
//!   accepted from the team.
//! - Teams may create and edit drafts (text and files) from the opening of registration until
//!   their deadline; after it, edits are refused, and the grace period only accepts a submit of
//!   what is saved. Submitting needs submissions to be open. Withdrawal is before the deadline.
//! - New teams may be created while registration is open.

use serde::Serialize;

use super::account::{Invalid, Problem};

/// The longest grace period an organizer may set: one day.
pub const MAX_GRACE_MS: i64 = 24 * 3_600_000;

/// A validated timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timeline {
    registration_opens: i64,
    registration_closes: i64,
    submission_opens: i64,
    submission_deadline: i64,
    grace_ms: i64,
}

/// Where a team stands against the timeline at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmitWindow {
    /// Before submissions open: drafts may be saved (once registration is open), not submitted.
    NotOpen,
    /// Submissions are open and on time.
    Open,
    /// After the deadline, within the grace period: accepted and flagged late.
    Grace,
    /// Past the deadline and the grace period.
    Closed,
}

impl SubmitWindow {
    /// May a team submit now?
    pub fn accepts_submits(self) -> bool {
        matches!(self, SubmitWindow::Open | SubmitWindow::Grace)
    }

    /// Is a submit now late?
    pub fn is_late(self) -> bool {
        self == SubmitWindow::Grace
    }

    /// May the team still edit its entries (text and files)? Until the deadline.
    pub fn edits_open(self) -> bool {
        matches!(self, SubmitWindow::NotOpen | SubmitWindow::Open)
    }
}

impl Timeline {
    /// Checks the order: registration opens before it closes, submissions open before the
    /// deadline, registration opens no later than submissions, and the grace is 0–24 hours.
    pub fn new(
        registration_opens: i64,
        registration_closes: i64,
        submission_opens: i64,
        submission_deadline: i64,
        grace_ms: i64,
    ) -> Result<Timeline, Invalid> {
        let bad = |field: &'static str, problem: Problem| Err(Invalid { field, problem });
        if registration_closes <= registration_opens {
            return bad("registration_closes", Problem::After("registration_opens"));
        }
        if submission_deadline <= submission_opens {
            return bad("submission_deadline", Problem::After("submission_opens"));
        }
        if submission_opens < registration_opens {
            return bad("submission_opens", Problem::NotBefore("registration_opens"));
        }
        if registration_closes > submission_deadline {
            return bad(
                "registration_closes",
                Problem::NotAfter("submission_deadline"),
            );
        }
        if !(0..=MAX_GRACE_MS).contains(&grace_ms) {
            return bad("grace_minutes", Problem::Range(0, MAX_GRACE_MS / 60_000));
        }
        Ok(Timeline {
            registration_opens,
            registration_closes,
            submission_opens,
            submission_deadline,
            grace_ms,
        })
    }

    pub fn registration_opens(&self) -> i64 {
        self.registration_opens
    }
    pub fn registration_closes(&self) -> i64 {
        self.registration_closes
    }
    pub fn submission_opens(&self) -> i64 {
        self.submission_opens
    }
    pub fn submission_deadline(&self) -> i64 {
        self.submission_deadline
    }
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// May a new team be created at `now`?
    pub fn registration_open(&self, now: i64) -> bool {
        (self.registration_opens..=self.registration_closes).contains(&now)
    }

    /// The team's deadline: the contest's, or a later extension.
    pub fn deadline_for(&self, extension: Option<i64>) -> i64 {
        extension.map_or(self.submission_deadline, |e| {
            e.max(self.submission_deadline)
        })
    }

    /// The last instant anything is accepted from the team: its deadline plus the grace.
    pub fn closes_for(&self, extension: Option<i64>) -> i64 {
        self.deadline_for(extension).saturating_add(self.grace_ms)
    }

    /// Where a team with `extension` stands at `now`.
    pub fn window(&self, now: i64, extension: Option<i64>) -> SubmitWindow {
        let deadline = self.deadline_for(extension);
        if now < self.submission_opens {
            SubmitWindow::NotOpen
        } else if now <= deadline {
            SubmitWindow::Open
        } else if now <= deadline.saturating_add(self.grace_ms) {
            SubmitWindow::Grace
        } else {
            SubmitWindow::Closed
        }
    }

    /// May the team create or edit a draft at `now`? From the opening of registration until
    /// the team's deadline.
    pub fn drafts_open(&self, now: i64, extension: Option<i64>) -> bool {
        now >= self.registration_opens && self.window(now, extension).edits_open()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H: i64 = 3_600_000;

    fn sample() -> Timeline {
        Timeline::new(0, 50 * H, 10 * H, 100 * H, H).expect("valid")
    }

    #[test]
    fn order_is_checked_and_names_the_field() {
        assert_eq!(
            Timeline::new(10, 5, 10, 20, 0).unwrap_err().field,
            "registration_closes"
        );
        assert_eq!(
            Timeline::new(0, 5, 20, 20, 0).unwrap_err().field,
            "submission_deadline"
        );
        assert_eq!(
            Timeline::new(5, 10, 0, 20, 0).unwrap_err().field,
            "submission_opens"
        );
        assert_eq!(
            Timeline::new(0, 30, 5, 20, 0).unwrap_err().field,
            "registration_closes"
        );
        assert_eq!(
            Timeline::new(0, 10, 5, 20, -1).unwrap_err().field,
            "grace_minutes"
        );
        assert_eq!(
            Timeline::new(0, 10, 5, 20, MAX_GRACE_MS + 1)
                .unwrap_err()
                .field,
            "grace_minutes"
        );
    }

    #[test]
    fn windows_at_the_edges() {
        let t = sample();
        assert_eq!(t.window(10 * H - 1, None), SubmitWindow::NotOpen);
        assert_eq!(t.window(10 * H, None), SubmitWindow::Open);
        assert_eq!(t.window(100 * H, None), SubmitWindow::Open);
        assert_eq!(t.window(100 * H + 1, None), SubmitWindow::Grace);
        assert_eq!(t.window(101 * H, None), SubmitWindow::Grace);
        assert_eq!(t.window(101 * H + 1, None), SubmitWindow::Closed);
        assert!(t.window(100 * H + 1, None).is_late());
        assert!(!t.window(100 * H, None).is_late());
    }

    #[test]
    fn an_extension_moves_the_deadline_later_only() {
        let t = sample();
        assert_eq!(t.window(102 * H, Some(110 * H)), SubmitWindow::Open);
        assert_eq!(t.window(110 * H + 1, Some(110 * H)), SubmitWindow::Grace);
        // An "extension" earlier than the contest deadline changes nothing.
        assert_eq!(t.deadline_for(Some(50 * H)), 100 * H);
        assert_eq!(t.window(99 * H, Some(50 * H)), SubmitWindow::Open);
    }

    #[test]
    fn drafts_open_with_registration_and_close_with_the_window() {
        let t = Timeline::new(5 * H, 50 * H, 10 * H, 100 * H, 0).expect("valid");
        assert!(!t.drafts_open(5 * H - 1, None));
        assert!(t.drafts_open(5 * H, None));
        assert!(t.drafts_open(100 * H, None));
        assert!(!t.drafts_open(100 * H + 1, None));
        // With a grace period, edits still close at the deadline.
        let g = Timeline::new(5 * H, 50 * H, 10 * H, 100 * H, H).expect("valid");
        assert!(!g.drafts_open(100 * H + 1, None));
        assert!(g.window(100 * H + 1, None).accepts_submits());
        assert!(t.registration_open(50 * H) && !t.registration_open(50 * H + 1));
    }

    proptest! {
        /// Time only moves a team forward through the windows: never from closed back to open.
        #[test]
        fn windows_are_monotonic(a in 0i64..200 * H, b in 0i64..200 * H, ext in proptest::option::of(0i64..200 * H)) {
            let t = sample();
            let (early, late) = if a <= b { (a, b) } else { (b, a) };
            let rank = |w: SubmitWindow| match w {
                SubmitWindow::NotOpen => 0,
                SubmitWindow::Open => 1,
                SubmitWindow::Grace => 2,
                SubmitWindow::Closed => 3,
            };
            prop_assert!(rank(t.window(early, ext)) <= rank(t.window(late, ext)));
            // An extension never makes a team worse off.
            prop_assert!(rank(t.window(late, ext)) <= rank(t.window(late, None)));
        }
    }
}
