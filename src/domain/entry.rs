//! The entry lifecycle: every status an entry can be in and, in one table, who may move it from
//! which status to which. Services ask [`transition`] before changing a status, so the rule is
//! written once.
//!
//! ```text
//! draft ──submit──▶ submitted ──▶ under_review ──▶ shortlisted ──▶ finalist ──▶ awarded
//!   ▲                   │                      └─▶ not_advanced            └─▶ not_awarded
//!   │                   └─withdraw (team, before the deadline)─▶ withdrawn ──resubmit──▶ submitted
//!   any status except disqualified ──disqualify (organizer, with a reason)──▶ disqualified
//! ```

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    Draft,
    Submitted,
    Withdrawn,
    UnderReview,
    Shortlisted,
    NotAdvanced,
    Finalist,
    Awarded,
    NotAwarded,
    Disqualified,
}

impl EntryStatus {
    pub const ALL: &'static [EntryStatus] = &[
        EntryStatus::Draft,
        EntryStatus::Submitted,
        EntryStatus::Withdrawn,
        EntryStatus::UnderReview,
        EntryStatus::Shortlisted,
        EntryStatus::NotAdvanced,
        EntryStatus::Finalist,
        EntryStatus::Awarded,
        EntryStatus::NotAwarded,
        EntryStatus::Disqualified,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EntryStatus::Draft => "draft",
            EntryStatus::Submitted => "submitted",
            EntryStatus::Withdrawn => "withdrawn",
            EntryStatus::UnderReview => "under_review",
            EntryStatus::Shortlisted => "shortlisted",
            EntryStatus::NotAdvanced => "not_advanced",
            EntryStatus::Finalist => "finalist",
            EntryStatus::Awarded => "awarded",
            EntryStatus::NotAwarded => "not_awarded",
            EntryStatus::Disqualified => "disqualified",
        }
    }

    pub fn from_code(s: &str) -> Option<EntryStatus> {
        EntryStatus::ALL.iter().copied().find(|st| st.code() == s)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            EntryStatus::Draft => "Bản nháp",
            EntryStatus::Submitted => "Đã nộp",
            EntryStatus::Withdrawn => "Đã rút",
            EntryStatus::UnderReview => "Đang chấm",
            EntryStatus::Shortlisted => "Vào vòng trong",
            EntryStatus::NotAdvanced => "Không vào vòng trong",
            EntryStatus::Finalist => "Vào chung kết",
            EntryStatus::Awarded => "Đoạt giải",
            EntryStatus::NotAwarded => "Không đoạt giải",
            EntryStatus::Disqualified => "Bị loại",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            EntryStatus::Draft => "Draft",
            EntryStatus::Submitted => "Submitted",
            EntryStatus::Withdrawn => "Withdrawn",
            EntryStatus::UnderReview => "Under review",
            EntryStatus::Shortlisted => "Shortlisted",
            EntryStatus::NotAdvanced => "Not advanced",
            EntryStatus::Finalist => "Finalist",
            EntryStatus::Awarded => "Awarded",
            EntryStatus::NotAwarded => "Not awarded",
            EntryStatus::Disqualified => "Disqualified",
        }
    }

    /// No transition leaves these statuses, except an organizer's disqualification (a decided
    /// entry can still be disqualified, e.g. for plagiarism found later).
    pub fn is_final(self) -> bool {
        EntryStatus::ALL
            .iter()
            .all(|to| !TABLE.iter().any(|r| r.from == self && r.to == *to))
            && !matches!(self, EntryStatus::Draft)
    }
}

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    /// A member of the entry's team.
    Team,
    /// An organizer.
    Organizer,
}

/// When a rule applies relative to the submission deadline (with any grace and extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    /// Only while submissions are open.
    BeforeDeadline,
    /// At any time.
    Always,
}

struct Rule {
    from: EntryStatus,
    to: EntryStatus,
    by: Mover,
    window: Window,
    needs_reason: bool,
}

const fn rule(
    from: EntryStatus,
    to: EntryStatus,
    by: Mover,
    window: Window,
    needs_reason: bool,
) -> Rule {
    Rule {
        from,
        to,
        by,
        window,
        needs_reason,
    }
}

use EntryStatus as S;
use Mover::{Organizer, Team};
use Window::{Always, BeforeDeadline};

/// Every allowed transition. Disqualification is added for every status but itself below.
const TABLE: &[Rule] = &[
    rule(S::Draft, S::Submitted, Team, BeforeDeadline, false),
    rule(S::Submitted, S::Withdrawn, Team, BeforeDeadline, false),
    rule(S::Withdrawn, S::Submitted, Team, BeforeDeadline, false),
    rule(S::Submitted, S::UnderReview, Organizer, Always, false),
    rule(S::UnderReview, S::Shortlisted, Organizer, Always, false),
    rule(S::UnderReview, S::NotAdvanced, Organizer, Always, false),
    rule(S::Shortlisted, S::Finalist, Organizer, Always, false),
    rule(S::Finalist, S::Awarded, Organizer, Always, false),
    rule(S::Finalist, S::NotAwarded, Organizer, Always, false),
];

/// Why a transition was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("an entry cannot go from {from:?} to {to:?}")]
    NotAllowed { from: EntryStatus, to: EntryStatus },
    #[error("only {0:?} may make this change")]
    WrongMover(Mover),
    #[error("the submission deadline has passed")]
    DeadlinePassed,
    #[error("a reason is required")]
    ReasonRequired,
}

/// Checks one transition. `before_deadline` is the server's judgement of the (possibly extended)
/// deadline; `reason` is the organizer's stated reason, required to disqualify.
pub fn transition(
    from: EntryStatus,
    to: EntryStatus,
    by: Mover,
    before_deadline: bool,
    reason: Option<&str>,
) -> Result<(), TransitionError> {
    let disqualify = Rule {
        from,
        to: S::Disqualified,
        by: Organizer,
        window: Always,
        needs_reason: true,
    };
    let rule = if to == S::Disqualified && from != S::Disqualified {
        &disqualify
    } else {
        TABLE
            .iter()
            .find(|r| r.from == from && r.to == to)
            .ok_or(TransitionError::NotAllowed { from, to })?
    };
    if rule.by != by {
        return Err(TransitionError::WrongMover(rule.by));
    }
    if rule.window == BeforeDeadline && !before_deadline {
        return Err(TransitionError::DeadlinePassed);
    }
    if rule.needs_reason && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(TransitionError::ReasonRequired);
    }
    Ok(())
}

/// May the team still edit the entry's content? Drafts, submitted and withdrawn entries, before
/// the deadline.
pub fn team_may_edit(status: EntryStatus, before_deadline: bool) -> bool {
    before_deadline && matches!(status, S::Draft | S::Submitted | S::Withdrawn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_main_path_is_allowed() {
        let path = [
            S::Draft,
            S::Submitted,
            S::UnderReview,
            S::Shortlisted,
            S::Finalist,
            S::Awarded,
        ];
        for w in path.windows(2) {
            let by = if w[0] == S::Draft { Team } else { Organizer };
            assert_eq!(transition(w[0], w[1], by, true, None), Ok(()), "{:?}", w);
        }
    }

    #[test]
    fn teams_withdraw_and_resubmit_only_before_the_deadline() {
        assert_eq!(
            transition(S::Submitted, S::Withdrawn, Team, true, None),
            Ok(())
        );
        assert_eq!(
            transition(S::Withdrawn, S::Submitted, Team, true, None),
            Ok(())
        );
        assert_eq!(
            transition(S::Submitted, S::Withdrawn, Team, false, None),
            Err(TransitionError::DeadlinePassed)
        );
        assert_eq!(
            transition(S::Draft, S::Submitted, Team, false, None),
            Err(TransitionError::DeadlinePassed)
        );
        assert_eq!(
            transition(S::Submitted, S::Withdrawn, Organizer, true, None),
            Err(TransitionError::WrongMover(Team))
        );
    }

    #[test]
    fn organizers_disqualify_from_anywhere_with_a_reason() {
        for &from in EntryStatus::ALL.iter().filter(|s| **s != S::Disqualified) {
            assert_eq!(
                transition(from, S::Disqualified, Organizer, false, Some("đạo văn")),
                Ok(()),
                "{from:?}"
            );
            assert_eq!(
                transition(from, S::Disqualified, Organizer, false, Some("  ")),
                Err(TransitionError::ReasonRequired)
            );
            assert_eq!(
                transition(from, S::Disqualified, Team, true, Some("x")),
                Err(TransitionError::WrongMover(Organizer))
            );
        }
        assert!(matches!(
            transition(S::Disqualified, S::Disqualified, Organizer, true, Some("x")),
            Err(TransitionError::NotAllowed { .. })
        ));
    }

    #[test]
    fn skipping_steps_is_refused() {
        assert!(matches!(
            transition(S::Submitted, S::Awarded, Organizer, false, None),
            Err(TransitionError::NotAllowed { .. })
        ));
        assert!(matches!(
            transition(S::Draft, S::UnderReview, Organizer, true, None),
            Err(TransitionError::NotAllowed { .. })
        ));
        assert!(matches!(
            transition(S::NotAdvanced, S::Finalist, Organizer, true, None),
            Err(TransitionError::NotAllowed { .. })
        ));
    }

    #[test]
    fn codes_round_trip_and_finals() {
        for s in EntryStatus::ALL {
            assert_eq!(EntryStatus::from_code(s.code()), Some(*s));
        }
        assert!(
            S::Awarded.is_final()
                && S::NotAwarded.is_final()
                && S::NotAdvanced.is_final()
                && S::Disqualified.is_final()
        );
        assert!(!S::Draft.is_final() && !S::Submitted.is_final() && !S::Withdrawn.is_final());
    }

    fn status() -> impl Strategy<Value = EntryStatus> {
        proptest::sample::select(EntryStatus::ALL.to_vec())
    }

    proptest! {
        /// A team can never move an entry into or past review, and nobody can leave a final status
        /// except to disqualify it.
        #[test]
        fn teams_never_judge_and_finals_stay_final(from in status(), to in status(), before in any::<bool>()) {
            let judged = [S::UnderReview, S::Shortlisted, S::NotAdvanced, S::Finalist, S::Awarded, S::NotAwarded, S::Disqualified];
            if judged.contains(&to) {
                prop_assert!(transition(from, to, Team, before, Some("r")).is_err());
            }
            if from.is_final() && to != S::Disqualified {
                prop_assert!(transition(from, to, Organizer, before, Some("r")).is_err());
                prop_assert!(transition(from, to, Team, before, Some("r")).is_err());
            }
        }

        /// After the deadline a team can change nothing.
        #[test]
        fn after_the_deadline_teams_change_nothing(from in status(), to in status()) {
            prop_assert!(transition(from, to, Team, false, Some("r")).is_err());
            prop_assert!(!team_may_edit(from, false));
        }
    }
}
