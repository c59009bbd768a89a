//! Conflicts of interest between a judge and an entry.
//!
//! **Automatic conflicts.** A judge conflicts with an entry when the judge's
//! organization, or the judge's email domain, matches that of any team member.
//!
//! * Organization names are compared after [`normalize_organization`]:
//!   case-, whitespace-, punctuation- and Vietnamese-accent-insensitive
//!   ("Đại học Bách khoa  Hà Nội" = "dai hoc bach khoa ha noi").
//! * Email domains are compared by their *organizational domain*
//!   ([`organizational_domain`]): webmail ([`WEBMAIL_DOMAINS`]) never counts;
//!   under a shared suffix ([`SHARED_PUBLIC_SUFFIXES`], and any
//!   `<generic label>.<two-letter country code>` such as `co.uk`) the agency is
//!   the one label left of the suffix, so `mic.gov.vn` = `mail.mic.gov.vn` but
//!   `hanoi.gov.vn` ≠ `mic.gov.vn`, and the bare suffix `gov.vn` is never a
//!   conflict; elsewhere the organizational domain is the last two labels
//!   (`mail.fpt.com` = `fpt.com`).
//!
//! **Declared conflicts** link a judge to a team, an organization (normalized
//! the same way, matched against team members' organizations) or one entry.

use super::{ConflictTarget, DeclaredConflict, Entry, Judge};
use crate::domain::ids::{EntryId, JudgeId, TeamId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Free webmail providers. A shared webmail domain never makes a conflict;
/// subdomains (for example `hn.vnn.vn`) are webmail too.
pub const WEBMAIL_DOMAINS: &[&str] = &[
    // International
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "ymail.com",
    "rocketmail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "yandex.com",
    "yandex.ru",
    "ya.ru",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.net",
    "mail.com",
    "zoho.com",
    "tutanota.com",
    "qq.com",
    "163.com",
    "126.com",
    // Vietnamese webmail and ISP mailboxes (VNPT's vnn.vn, with regional
    // subdomains such as hn.vnn.vn and hcm.vnn.vn)
    "yahoo.com.vn",
    "vnn.vn",
];

/// Shared public suffixes under which many unrelated organizations register.
/// Two addresses under one of these conflict only when the label just left of
/// the suffix (the agency, school or company) is the same. Any
/// [`SHARED_SECOND_LEVEL_LABELS`] label followed by a two-letter country code
/// is treated the same way.
pub const SHARED_PUBLIC_SUFFIXES: &[&str] = &[
    "gov.vn",
    "edu.vn",
    "org.vn",
    "com.vn",
    "net.vn",
    "ac.vn",
    "int.vn",
    "info.vn",
    "biz.vn",
    "name.vn",
    "pro.vn",
    "health.vn",
    "id.vn",
    "io.vn",
];

/// Generic second-level labels used under country codes (`co.uk`, `edu.au`…).
pub const SHARED_SECOND_LEVEL_LABELS: &[&str] = &[
    "ac", "co", "com", "edu", "gov", "govt", "int", "mil", "net", "org", "or", "ne", "go", "info",
    "biz", "name", "pro", "health", "nic", "sch", "id",
];

/// Why a judge may not judge an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictReason {
    /// The judge's organization is a team member's organization.
    SameOrganization,
    /// The judge's email domain is a team member's (not webmail, same agency).
    SameEmailDomain,
    /// A declared conflict with the entry's team.
    DeclaredTeam,
    /// A declared conflict with the organization of a team member.
    DeclaredOrganization,
    /// A declared conflict with this very entry.
    DeclaredEntry,
}

/// Folds one lowercase character: strips Vietnamese (and common Latin)
/// diacritics, maps `đ` to `d`. Combining marks return `None`.
fn fold_char(c: char) -> Option<char> {
    const GROUPS: &[(char, &str)] = &[
        ('a', "àáảãạăằắẳẵặâầấẩẫậäåā"),
        ('e', "èéẻẽẹêềếểễệëē"),
        ('i', "ìíỉĩịïîī"),
        ('o', "òóỏõọôồốổỗộơờớởỡợöøō"),
        ('u', "ùúủũụưừứửữựüûū"),
        ('y', "ỳýỷỹỵÿ"),
        ('d', "đð"),
        ('c', "ç"),
        ('n', "ñ"),
    ];
    if ('\u{0300}'..='\u{036f}').contains(&c) {
        return None; // combining diacritical mark (decomposed input)
    }
    if c.is_ascii() {
        return Some(c);
    }
    for (base, variants) in GROUPS {
        if variants.contains(c) {
            return Some(*base);
        }
    }
    Some(c)
}

/// Normalizes an organization name for comparison: lowercase, accents
/// stripped, punctuation turned into spaces, whitespace collapsed. Returns
/// `None` when nothing is left.
pub fn normalize_organization(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        let Some(c) = fold_char(c) else { continue };
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Normalizes an email address or a bare domain to a lowercase domain
/// (`"  An.Nguyen@MIC.gov.vn "` → `"mic.gov.vn"`). Returns `None` when the
/// text is not a plausible domain.
pub fn normalize_email_domain(text: &str) -> Option<String> {
    let text = text.trim();
    let domain = match text.rfind('@') {
        Some(at) => &text[at + 1..],
        None => text,
    };
    let domain = domain
        .trim_start_matches('@')
        .trim_end_matches('.')
        .to_lowercase();
    if domain.is_empty()
        || domain.split('.').any(|label| {
            label.is_empty() || !label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
    {
        return None;
    }
    Some(domain)
}

fn is_same_or_subdomain(domain: &str, suffix: &str) -> bool {
    domain == suffix
        || (domain.len() > suffix.len()
            && domain.ends_with(suffix)
            && domain.as_bytes()[domain.len() - suffix.len() - 1] == b'.')
}

/// Whether a normalized domain is a webmail provider (or a subdomain of one).
pub fn is_webmail(domain: &str) -> bool {
    WEBMAIL_DOMAINS
        .iter()
        .any(|w| is_same_or_subdomain(domain, w))
}

/// Length in labels of the shared suffix that `domain` ends with, if any.
fn shared_suffix_labels(labels: &[&str]) -> usize {
    let n = labels.len();
    if n >= 2 {
        let last_two = format!("{}.{}", labels[n - 2], labels[n - 1]);
        if SHARED_PUBLIC_SUFFIXES.contains(&last_two.as_str()) {
            return 2;
        }
        let cc = labels[n - 1];
        if cc.len() == 2
            && cc.chars().all(|c| c.is_ascii_alphabetic())
            && SHARED_SECOND_LEVEL_LABELS.contains(&labels[n - 2])
        {
            return 2;
        }
    }
    1
}

/// The key two email domains are compared by, or `None` when the domain can
/// never make a conflict (webmail, a bare shared suffix, a single label).
pub fn organizational_domain(domain: &str) -> Option<String> {
    let domain = normalize_email_domain(domain)?;
    if is_webmail(&domain) {
        return None;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let suffix = shared_suffix_labels(&labels);
    if labels.len() <= suffix {
        return None;
    }
    Some(labels[labels.len() - suffix - 1..].join("."))
}

/// Whether two organization names denote the same organization.
pub fn organizations_conflict(a: &str, b: &str) -> bool {
    match (normalize_organization(a), normalize_organization(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Whether two email domains (or addresses) make a conflict.
pub fn domains_conflict(a: &str, b: &str) -> bool {
    match (organizational_domain(a), organizational_domain(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Explains the first conflict between one judge and one entry, if any.
/// Convenient for an API that shows why a pair is blocked; the assigner uses
/// the faster [`ConflictIndex`].
pub fn find_conflict(
    judge: &Judge,
    entry: &Entry,
    declared: &[DeclaredConflict],
) -> Option<ConflictReason> {
    let index = ConflictIndex::new(
        std::slice::from_ref(judge),
        std::slice::from_ref(entry),
        declared,
    );
    index.conflict(0, 0)
}

#[derive(Default)]
struct Interner {
    map: HashMap<String, u32>,
}

impl Interner {
    fn intern(&mut self, key: String) -> u32 {
        let next = self.map.len() as u32;
        *self.map.entry(key).or_insert(next)
    }
    fn get(&self, key: &str) -> Option<u32> {
        self.map.get(key).copied()
    }
}

#[derive(Default, Clone)]
struct JudgeKeys {
    org: Option<u32>,
    domain: Option<u32>,
    declared_teams: Vec<u32>,
    declared_orgs: Vec<u32>,
    declared_entries: Vec<u32>,
}

#[derive(Default, Clone)]
struct EntryKeys {
    team: u32,
    orgs: Vec<u32>,
    domains: Vec<u32>,
}

/// Pre-normalized conflict data for a pool of judges and entries, indexed by
/// their positions in the slices given to [`ConflictIndex::new`]. A pair check
/// is a few comparisons of small integer lists.
pub struct ConflictIndex {
    judges: Vec<JudgeKeys>,
    entries: Vec<EntryKeys>,
}

impl ConflictIndex {
    /// Normalizes every name and domain once. Declared conflicts naming a
    /// judge, team or entry outside these slices are ignored.
    pub fn new(judges: &[Judge], entries: &[Entry], declared: &[DeclaredConflict]) -> Self {
        let mut orgs = Interner::default();
        let mut domains = Interner::default();
        let mut teams = Interner::default();
        let entry_keys: Vec<EntryKeys> = entries
            .iter()
            .map(|e| {
                let mut k = EntryKeys {
                    team: teams.intern(e.team.0.clone()),
                    ..EntryKeys::default()
                };
                for m in &e.members {
                    if let Some(o) = m.organization.as_deref().and_then(normalize_organization) {
                        k.orgs.push(orgs.intern(o));
                    }
                    if let Some(d) = m.email_domain.as_deref().and_then(organizational_domain) {
                        k.domains.push(domains.intern(d));
                    }
                }
                k.orgs.sort_unstable();
                k.orgs.dedup();
                k.domains.sort_unstable();
                k.domains.dedup();
                k
            })
            .collect();
        let mut judge_keys: Vec<JudgeKeys> = judges
            .iter()
            .map(|j| JudgeKeys {
                org: j
                    .organization
                    .as_deref()
                    .and_then(normalize_organization)
                    .and_then(|o| orgs.get(&o)),
                domain: j
                    .email_domain
                    .as_deref()
                    .and_then(organizational_domain)
                    .and_then(|d| domains.get(&d)),
                ..JudgeKeys::default()
            })
            .collect();
        let judge_pos: HashMap<&JudgeId, usize> =
            judges.iter().enumerate().map(|(i, j)| (&j.id, i)).collect();
        let entry_pos: HashMap<&EntryId, u32> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (&e.id, i as u32))
            .collect();
        for d in declared {
            let Some(&j) = judge_pos.get(&d.judge) else {
                continue;
            };
            let keys = &mut judge_keys[j];
            match &d.with {
                ConflictTarget::Team(TeamId(team)) => {
                    if let Some(t) = teams.get(team) {
                        keys.declared_teams.push(t);
                    }
                }
                ConflictTarget::Organization(name) => {
                    if let Some(o) = normalize_organization(name).and_then(|o| orgs.get(&o)) {
                        keys.declared_orgs.push(o);
                    }
                }
                ConflictTarget::Entry(entry) => {
                    if let Some(&e) = entry_pos.get(entry) {
                        keys.declared_entries.push(e);
                    }
                }
            }
        }
        Self {
            judges: judge_keys,
            entries: entry_keys,
        }
    }

    /// The conflict between judge `j` and entry `e` (positions), if any.
    pub fn conflict(&self, j: usize, e: usize) -> Option<ConflictReason> {
        let (jk, ek) = (self.judges.get(j)?, self.entries.get(e)?);
        if let Some(o) = jk.org
            && ek.orgs.contains(&o)
        {
            return Some(ConflictReason::SameOrganization);
        }
        if let Some(d) = jk.domain
            && ek.domains.contains(&d)
        {
            return Some(ConflictReason::SameEmailDomain);
        }
        if jk.declared_teams.contains(&ek.team) {
            return Some(ConflictReason::DeclaredTeam);
        }
        if jk.declared_orgs.iter().any(|o| ek.orgs.contains(o)) {
            return Some(ConflictReason::DeclaredOrganization);
        }
        if jk.declared_entries.contains(&(e as u32)) {
            return Some(ConflictReason::DeclaredEntry);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::assignment::{Expertise, TeamMember};
    use crate::domain::ids::{FieldId, ProblemId};
    use proptest::prelude::*;

    fn judge(org: &str, domain: &str) -> Judge {
        Judge {
            id: JudgeId::from("j"),
            expertise: Vec::<Expertise>::new(),
            organization: Some(org.to_owned()),
            email_domain: Some(domain.to_owned()),
            max_load: 10,
        }
    }

    fn entry(members: &[(&str, &str)]) -> Entry {
        Entry {
            id: EntryId::from("e"),
            problem: ProblemId::from("p"),
            field: FieldId::from("f"),
            team: TeamId::from("t"),
            members: members
                .iter()
                .map(|(o, d)| TeamMember {
                    organization: Some((*o).to_owned()),
                    email_domain: Some((*d).to_owned()),
                })
                .collect(),
        }
    }

    #[test]
    fn organization_names_normalize() {
        assert_eq!(
            normalize_organization("  Đại học Bách khoa   Hà Nội ").as_deref(),
            Some("dai hoc bach khoa ha noi")
        );
        assert!(organizations_conflict(
            "TRƯỜNG ĐẠI HỌC CÔNG NGHỆ, ĐHQGHN",
            "truong dai hoc cong nghe dhqghn"
        ));
        // Decomposed accents (combining marks) fold the same way.
        assert!(organizations_conflict("Vie\u{0302}\u{0323}t", "Việt"));
        assert!(!organizations_conflict("FPT Software", "FPT Telecom"));
        assert_eq!(normalize_organization(" - "), None);
        assert!(!organizations_conflict("", ""));
    }

    #[test]
    fn email_domains_normalize() {
        assert_eq!(
            normalize_email_domain(" An.Nguyen@MIC.gov.vn ").as_deref(),
            Some("mic.gov.vn")
        );
        assert_eq!(
            normalize_email_domain("@fpt.com.").as_deref(),
            Some("fpt.com")
        );
        assert_eq!(normalize_email_domain("bad..domain"), None);
        assert_eq!(normalize_email_domain("no spaces.vn"), None);
    }

    #[test]
    fn domain_rules_from_the_issue() {
        assert!(domains_conflict("mic.gov.vn", "mic.gov.vn"));
        assert!(domains_conflict("mail.mic.gov.vn", "a@mic.gov.vn"));
        assert!(!domains_conflict("gov.vn", "gov.vn"));
        assert!(!domains_conflict("hanoi.gov.vn", "mic.gov.vn"));
        assert!(!domains_conflict("gmail.com", "gmail.com"));
        assert!(!domains_conflict("hn.vnn.vn", "hn.vnn.vn"));
        assert!(!domains_conflict("yahoo.com.vn", "yahoo.com.vn"));
        assert!(domains_conflict("fpt.com.vn", "hcm.fpt.com.vn"));
        assert!(domains_conflict("mail.fpt.com", "fpt.com"));
        assert!(!domains_conflict("hust.edu.vn", "vnu.edu.vn"));
        assert!(!domains_conflict("ox.ac.uk", "cam.ac.uk"));
        assert!(!domains_conflict("edu.vn", "edu.vn"));
        assert!(!domains_conflict("localhost", "localhost"));
        assert_eq!(
            organizational_domain("Soict.HUST.edu.vn").as_deref(),
            Some("hust.edu.vn")
        );
    }

    #[test]
    fn automatic_and_declared_conflicts() {
        let e = entry(&[
            ("Viettel", "gmail.com"),
            ("Sở TT&TT Hà Nội", "hanoi.gov.vn"),
        ]);
        let none: &[DeclaredConflict] = &[];
        assert_eq!(
            find_conflict(&judge("VIETTEL", "viettel.com.vn"), &e, none),
            Some(ConflictReason::SameOrganization)
        );
        assert_eq!(
            find_conflict(&judge("Other", "hanoi.gov.vn"), &e, none),
            Some(ConflictReason::SameEmailDomain)
        );
        assert_eq!(find_conflict(&judge("Other", "gmail.com"), &e, none), None);
        assert_eq!(find_conflict(&judge("Other", "mic.gov.vn"), &e, none), None);
        let j = judge("Other", "mic.gov.vn");
        let team = [DeclaredConflict {
            judge: JudgeId::from("j"),
            with: ConflictTarget::Team(TeamId::from("t")),
        }];
        assert_eq!(
            find_conflict(&j, &e, &team),
            Some(ConflictReason::DeclaredTeam)
        );
        let org = [DeclaredConflict {
            judge: JudgeId::from("j"),
            with: ConflictTarget::Organization("viettel".into()),
        }];
        assert_eq!(
            find_conflict(&j, &e, &org),
            Some(ConflictReason::DeclaredOrganization)
        );
        let ent = [DeclaredConflict {
            judge: JudgeId::from("j"),
            with: ConflictTarget::Entry(EntryId::from("e")),
        }];
        assert_eq!(
            find_conflict(&j, &e, &ent),
            Some(ConflictReason::DeclaredEntry)
        );
        let other_judge = [DeclaredConflict {
            judge: JudgeId::from("someone-else"),
            with: ConflictTarget::Entry(EntryId::from("e")),
        }];
        assert_eq!(find_conflict(&j, &e, &other_judge), None);
    }

    fn strip_vi(s: &str) -> String {
        s.chars()
            .flat_map(char::to_lowercase)
            .filter_map(fold_char)
            .collect()
    }

    proptest! {
        #[test]
        fn normalization_is_idempotent(s in "[a-zA-ZàáảãạăằắẳẵặâầấẩẫậđĐêềếểễệôồốổỗộơờớởỡợưừứửữự ,.-]{0,30}") {
            let once = normalize_organization(&s);
            if let Some(once) = once {
                prop_assert_eq!(normalize_organization(&once), Some(once.clone()));
            }
        }

        #[test]
        fn accents_case_and_spaces_do_not_matter(s in "[a-zA-Zàáảãạăằắẳẵặâầấẩẫậđêềếểễệôồốổỗộơờớởỡợưừứửữự ]{1,30}") {
            let plain = strip_vi(&s).to_uppercase().replace(' ', "   ");
            prop_assert_eq!(normalize_organization(&s), normalize_organization(&plain));
        }

        #[test]
        fn webmail_never_conflicts(i in 0..WEBMAIL_DOMAINS.len(), sub in "[a-z]{0,4}") {
            let d = if sub.is_empty() { WEBMAIL_DOMAINS[i].to_owned() } else { format!("{sub}.{}", WEBMAIL_DOMAINS[i]) };
            prop_assert!(!domains_conflict(&d, &d));
        }

        #[test]
        fn shared_suffix_needs_same_agency(i in 0..SHARED_PUBLIC_SUFFIXES.len(), a in "[a-z]{1,6}", b in "[a-z]{1,6}") {
            let s = SHARED_PUBLIC_SUFFIXES[i];
            prop_assert!(!domains_conflict(s, s));
            let da = format!("{a}.{s}");
            let db = format!("{b}.{s}");
            if !is_webmail(&da) && !is_webmail(&db) {
                prop_assert_eq!(domains_conflict(&da, &db), a == b);
            }
        }

        #[test]
        fn domain_conflict_is_symmetric(a in "[a-z]{1,4}(\\.[a-z]{2,3}){1,3}", b in "[a-z]{1,4}(\\.[a-z]{2,3}){1,3}") {
            prop_assert_eq!(domains_conflict(&a, &b), domains_conflict(&b, &a));
        }
    }
}
