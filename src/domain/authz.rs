//! Who may do what: one table for every action in the system. Services check it before acting;
//! rules about a specific object (a team's leader, one's own entry) are checked beside it.

use super::account::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read and change one's own profile, password and email; read one's notifications.
    OwnAccount,
    /// Create a team, join one, and manage it as its leader.
    Teams,
    /// Invite judges.
    InviteJudges,
    /// List accounts; disable or re-enable them.
    ManageUsers,
    /// Read the outbox and retry failed mail.
    ManageMail,
    /// Read the audit log.
    ReadAudit,
    /// Enter problems for one's team: drafts, uploads, submits, withdrawals, receipts.
    Entries,
    /// See every entry, change statuses, export; set the timeline and give extensions.
    ManageEntries,
}

use Role::{Judge, Organizer, Participant};

/// The table. Anonymous callers may do none of these.
const TABLE: &[(Action, &[Role])] = &[
    (Action::OwnAccount, &[Participant, Judge, Organizer]),
    (Action::Teams, &[Participant]),
    (Action::InviteJudges, &[Organizer]),
    (Action::ManageUsers, &[Organizer]),
    (Action::ManageMail, &[Organizer]),
    (Action::ReadAudit, &[Organizer]),
    (Action::Entries, &[Participant]),
    (Action::ManageEntries, &[Organizer]),
];

pub fn allowed(role: Option<Role>, action: Action) -> bool {
    let Some(role) = role else {
        return false;
    };
    TABLE
        .iter()
        .find(|(a, _)| *a == action)
        .is_some_and(|(_, roles)| roles.contains(&role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_in_the_table_once() {
        let all = [
            Action::OwnAccount,
            Action::Teams,
            Action::InviteJudges,
            Action::ManageUsers,
            Action::ManageMail,
            Action::ReadAudit,
            Action::Entries,
            Action::ManageEntries,
        ];
        for a in all {
            assert_eq!(TABLE.iter().filter(|(x, _)| *x == a).count(), 1, "{a:?}");
            assert!(!allowed(None, a), "anonymous may not {a:?}");
        }
    }

    #[test]
    fn organizers_manage_participants_make_teams() {
        assert!(allowed(Some(Role::Organizer), Action::ManageUsers));
        assert!(!allowed(Some(Role::Participant), Action::ManageUsers));
        assert!(!allowed(Some(Role::Judge), Action::ReadAudit));
        assert!(allowed(Some(Role::Participant), Action::Teams));
        assert!(!allowed(Some(Role::Judge), Action::Teams));
        assert!(allowed(Some(Role::Judge), Action::OwnAccount));
    }
}
