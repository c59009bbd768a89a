//! Teams: names unique without regard to case or accents, kinds, provinces, size rules.
//!
//! - A team name is stored as typed (trimmed, NFC, runs of white space collapsed) and compared
//!   through its key: [`name_key`] folds case, Vietnamese accents and `đ`, so "Đội Sao Việt" and
//!   "doi  sao viet" are the same name.
//! - The province or city is one of Vietnam's 63 provinces and centrally-run cities as of 2022
//!   ([`PROVINCES`]); it is stored by its Vietnamese name.
//! - Size: a team counts its members, the leader included. `teams.max_size` is a hard limit that
//!   pending invitations count toward (a sent invitation holds a seat until it is accepted,
//!   revoked or expires); `teams.min_size` is what a team needs to take part, not a limit on
//!   leaving ([`SizeRule`]).

use serde::{Deserialize, Serialize};

use super::account::{self, Invalid, Problem};
use super::text;

pub const MAX_TEAM_NAME_CHARS: usize = 80;
pub const MIN_TEAM_NAME_CHARS: usize = 2;
pub const MAX_TEAM_ORGANIZATION_CHARS: usize = account::MAX_ORGANIZATION_CHARS;

/// The comparison key of a team name: folded (case, accents, `đ`) with white space collapsed.
pub fn name_key(name: &str) -> String {
    collapse_whitespace(&text::fold(name))
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A team name as it will be shown: trimmed, NFC, white space collapsed, 2 to 80 characters.
pub fn team_name(field: &'static str, value: &str) -> Result<String, Invalid> {
    let v = account::required_text(field, &collapse_whitespace(value), MAX_TEAM_NAME_CHARS)?;
    if v.chars().count() < MIN_TEAM_NAME_CHARS {
        return Err(Invalid {
            field,
            problem: Problem::TooShort(MIN_TEAM_NAME_CHARS),
        });
    }
    Ok(v)
}

/// What kind of participant the team is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamKind {
    Individual,
    Student,
    Startup,
    Enterprise,
    ResearchInstitute,
    PublicAgency,
    Community,
}

impl TeamKind {
    pub const ALL: [TeamKind; 7] = [
        TeamKind::Individual,
        TeamKind::Student,
        TeamKind::Startup,
        TeamKind::Enterprise,
        TeamKind::ResearchInstitute,
        TeamKind::PublicAgency,
        TeamKind::Community,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TeamKind::Individual => "individual",
            TeamKind::Student => "student",
            TeamKind::Startup => "startup",
            TeamKind::Enterprise => "enterprise",
            TeamKind::ResearchInstitute => "research_institute",
            TeamKind::PublicAgency => "public_agency",
            TeamKind::Community => "community",
        }
    }

    pub fn from_code(s: &str) -> Option<TeamKind> {
        TeamKind::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            TeamKind::Individual => "Cá nhân",
            TeamKind::Student => "Sinh viên",
            TeamKind::Startup => "Doanh nghiệp khởi nghiệp",
            TeamKind::Enterprise => "Doanh nghiệp",
            TeamKind::ResearchInstitute => "Viện, trường, tổ chức nghiên cứu",
            TeamKind::PublicAgency => "Cơ quan nhà nước",
            TeamKind::Community => "Cộng đồng",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            TeamKind::Individual => "Individual",
            TeamKind::Student => "Students",
            TeamKind::Startup => "Startup",
            TeamKind::Enterprise => "Enterprise",
            TeamKind::ResearchInstitute => "Research institute",
            TeamKind::PublicAgency => "Public agency",
            TeamKind::Community => "Community",
        }
    }

    /// Every code, comma-separated, for messages.
    pub fn codes() -> String {
        TeamKind::ALL.map(TeamKind::code).join(", ")
    }

    pub fn parse(field: &'static str, s: &str) -> Result<TeamKind, Invalid> {
        let v = s.trim();
        if v.is_empty() {
            return Err(Invalid {
                field,
                problem: Problem::Required,
            });
        }
        TeamKind::from_code(&v.to_ascii_lowercase()).ok_or_else(|| Invalid {
            field,
            problem: Problem::NotAllowed(TeamKind::codes()),
        })
    }
}

/// A province or centrally-run city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Province {
    /// The two-digit administrative code (Decision 124/2004/QĐ-TTg).
    pub code: &'static str,
    /// The Vietnamese name without "Tỉnh"/"Thành phố", as stored.
    pub name: &'static str,
    pub name_en: &'static str,
    /// A centrally-run city (thành phố trực thuộc trung ương) rather than a province.
    pub city: bool,
}

impl Province {
    /// The name with its administrative prefix: "Thành phố Hà Nội", "Tỉnh Nghệ An".
    pub fn full_name_vi(&self) -> String {
        if self.city {
            format!("Thành phố {}", self.name)
        } else {
            format!("Tỉnh {}", self.name)
        }
    }

    /// The name with its kind in English: "Ho Chi Minh City", "Nghe An Province".
    pub fn full_name_en(&self) -> String {
        if self.city {
            format!("{} City", self.name_en)
        } else {
            format!("{} Province", self.name_en)
        }
    }

    /// Finds a province by name ignoring case, accents, punctuation, the "Tỉnh"/"Thành phố"/"TP."
    /// prefix, and by its English name or two-digit code.
    pub fn find(input: &str) -> Option<&'static Province> {
        let key = province_key(input);
        if key.is_empty() {
            return None;
        }
        let bare = ["thanh pho ", "tinh ", "tp "]
            .iter()
            .find_map(|p| key.strip_prefix(p))
            .unwrap_or(&key)
            .to_owned();
        let bare = bare
            .strip_suffix(" city")
            .or_else(|| bare.strip_suffix(" province"))
            .unwrap_or(&bare);
        PROVINCES.iter().find(|p| {
            p.code == key || province_key(p.name) == bare || province_key(p.name_en) == bare
        })
    }

    /// Parses a form or API value into the stored (Vietnamese) name.
    pub fn parse(field: &'static str, s: &str) -> Result<&'static Province, Invalid> {
        if s.trim().is_empty() {
            return Err(Invalid {
                field,
                problem: Problem::Required,
            });
        }
        Province::find(s).ok_or_else(|| Invalid {
            field,
            problem: Problem::NotAllowed(
                PROVINCES
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        })
    }
}

/// Folded, with dots, dashes and repeated spaces removed: "TP. Hồ  Chí-Minh" → "tp ho chi minh".
fn province_key(s: &str) -> String {
    let folded = text::fold(s);
    let spaced: String = folded
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    collapse_whitespace(&spaced)
}

const fn p(code: &'static str, name: &'static str, name_en: &'static str) -> Province {
    Province {
        code,
        name,
        name_en,
        city: false,
    }
}

const fn c(code: &'static str, name: &'static str, name_en: &'static str) -> Province {
    Province {
        code,
        name,
        name_en,
        city: true,
    }
}

/// Vietnam's 63 provinces and centrally-run cities (as of 2022), by administrative code.
pub const PROVINCES: &[Province] = &[
    c("01", "Hà Nội", "Ha Noi"),
    p("02", "Hà Giang", "Ha Giang"),
    p("04", "Cao Bằng", "Cao Bang"),
    p("06", "Bắc Kạn", "Bac Kan"),
    p("08", "Tuyên Quang", "Tuyen Quang"),
    p("10", "Lào Cai", "Lao Cai"),
    p("11", "Điện Biên", "Dien Bien"),
    p("12", "Lai Châu", "Lai Chau"),
    p("14", "Sơn La", "Son La"),
    p("15", "Yên Bái", "Yen Bai"),
    p("17", "Hòa Bình", "Hoa Binh"),
    p("19", "Thái Nguyên", "Thai Nguyen"),
    p("20", "Lạng Sơn", "Lang Son"),
    p("22", "Quảng Ninh", "Quang Ninh"),
    p("24", "Bắc Giang", "Bac Giang"),
    p("25", "Phú Thọ", "Phu Tho"),
    p("26", "Vĩnh Phúc", "Vinh Phuc"),
    p("27", "Bắc Ninh", "Bac Ninh"),
    p("30", "Hải Dương", "Hai Duong"),
    c("31", "Hải Phòng", "Hai Phong"),
    p("33", "Hưng Yên", "Hung Yen"),
    p("34", "Thái Bình", "Thai Binh"),
    p("35", "Hà Nam", "Ha Nam"),
    p("36", "Nam Định", "Nam Dinh"),
    p("37", "Ninh Bình", "Ninh Binh"),
    p("38", "Thanh Hóa", "Thanh Hoa"),
    p("40", "Nghệ An", "Nghe An"),
    p("42", "Hà Tĩnh", "Ha Tinh"),
    p("44", "Quảng Bình", "Quang Binh"),
    p("45", "Quảng Trị", "Quang Tri"),
    p("46", "Thừa Thiên Huế", "Thua Thien Hue"),
    c("48", "Đà Nẵng", "Da Nang"),
    p("49", "Quảng Nam", "Quang Nam"),
    p("51", "Quảng Ngãi", "Quang Ngai"),
    p("52", "Bình Định", "Binh Dinh"),
    p("54", "Phú Yên", "Phu Yen"),
    p("56", "Khánh Hòa", "Khanh Hoa"),
    p("58", "Ninh Thuận", "Ninh Thuan"),
    p("60", "Bình Thuận", "Binh Thuan"),
    p("62", "Kon Tum", "Kon Tum"),
    p("64", "Gia Lai", "Gia Lai"),
    p("66", "Đắk Lắk", "Dak Lak"),
    p("67", "Đắk Nông", "Dak Nong"),
    p("68", "Lâm Đồng", "Lam Dong"),
    p("70", "Bình Phước", "Binh Phuoc"),
    p("72", "Tây Ninh", "Tay Ninh"),
    p("74", "Bình Dương", "Binh Duong"),
    p("75", "Đồng Nai", "Dong Nai"),
    p("77", "Bà Rịa - Vũng Tàu", "Ba Ria - Vung Tau"),
    c("79", "Hồ Chí Minh", "Ho Chi Minh"),
    p("80", "Long An", "Long An"),
    p("82", "Tiền Giang", "Tien Giang"),
    p("83", "Bến Tre", "Ben Tre"),
    p("84", "Trà Vinh", "Tra Vinh"),
    p("86", "Vĩnh Long", "Vinh Long"),
    p("87", "Đồng Tháp", "Dong Thap"),
    p("89", "An Giang", "An Giang"),
    p("91", "Kiên Giang", "Kien Giang"),
    c("92", "Cần Thơ", "Can Tho"),
    p("93", "Hậu Giang", "Hau Giang"),
    p("94", "Sóc Trăng", "Soc Trang"),
    p("95", "Bạc Liêu", "Bac Lieu"),
    p("96", "Cà Mau", "Ca Mau"),
];

/// A team's fields, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamFields {
    pub name: String,
    pub name_key: String,
    pub kind: TeamKind,
    /// The province's Vietnamese name, as stored.
    pub province: &'static str,
    pub organization: String,
}

/// Checks every field of a new team and reports all problems at once.
pub fn validate_team(
    name: &str,
    kind: &str,
    province: &str,
    organization: &str,
) -> Result<TeamFields, Vec<Invalid>> {
    let mut errors = Vec::new();
    let name = team_name("name", name).map_err(|e| errors.push(e)).ok();
    let kind = TeamKind::parse("kind", kind)
        .map_err(|e| errors.push(e))
        .ok();
    let province = Province::parse("province", province)
        .map_err(|e| errors.push(e))
        .ok();
    let organization = account::required_text(
        "organization",
        &collapse_whitespace(organization),
        MAX_TEAM_ORGANIZATION_CHARS,
    )
    .map_err(|e| errors.push(e))
    .ok();
    match (name, kind, province, organization) {
        (Some(name), Some(kind), Some(province), Some(organization)) if errors.is_empty() => {
            Ok(TeamFields {
                name_key: name_key(&name),
                name,
                kind,
                province: province.name,
                organization,
            })
        }
        _ => Err(errors),
    }
}

/// The size rules, from `teams.min_size` and `teams.max_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeRule {
    pub min: u32,
    pub max: u32,
}

impl SizeRule {
    /// Can one more person be invited, with `members` in the team and `pending` invitations out?
    pub fn can_invite(self, members: u64, pending: u64) -> bool {
        members.saturating_add(pending) < u64::from(self.max)
    }

    /// Can one more person join a team of `members`? (Their own invitation is not counted again.)
    pub fn can_join(self, members: u64) -> bool {
        members < u64::from(self.max)
    }

    /// Is a team of `members` large enough to take part?
    pub fn is_complete(self, members: u64) -> bool {
        members >= u64::from(self.min)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_collide_without_regard_to_case_accents_and_spaces() {
        assert_eq!(name_key("Đội Sao Việt"), name_key("doi sao viet"));
        assert_eq!(name_key("Đội Sao Việt"), "doi sao viet");
        assert_eq!(name_key("  ĐỘI   SAO\tVIỆT "), "doi sao viet");
        assert_ne!(name_key("Đội Sao Việt"), name_key("Đội Sao Mai"));
        assert_eq!(
            team_name("name", "  Đội   Sao  Việt "),
            Ok("Đội Sao Việt".to_owned())
        );
    }

    #[test]
    fn team_names_have_limits() {
        assert_eq!(
            team_name("name", "  ").map_err(|e| e.problem),
            Err(Problem::Required)
        );
        assert_eq!(
            team_name("name", "A").map_err(|e| e.problem),
            Err(Problem::TooShort(MIN_TEAM_NAME_CHARS))
        );
        assert_eq!(
            team_name("name", &"ă".repeat(81)).map_err(|e| e.problem),
            Err(Problem::TooLong(MAX_TEAM_NAME_CHARS))
        );
        assert!(team_name("name", &"ă".repeat(80)).is_ok());
        assert!(team_name("name", "a\u{7}b").is_err());
    }

    #[test]
    fn province_list_has_63_unique_entries() {
        assert_eq!(PROVINCES.len(), 63);
        let codes: HashSet<_> = PROVINCES.iter().map(|p| p.code).collect();
        let names: HashSet<_> = PROVINCES.iter().map(|p| province_key(p.name)).collect();
        let names_en: HashSet<_> = PROVINCES.iter().map(|p| province_key(p.name_en)).collect();
        assert_eq!((codes.len(), names.len(), names_en.len()), (63, 63, 63));
        let cities: Vec<_> = PROVINCES
            .iter()
            .filter(|p| p.city)
            .map(|p| p.name)
            .collect();
        assert_eq!(
            cities,
            ["Hà Nội", "Hải Phòng", "Đà Nẵng", "Hồ Chí Minh", "Cần Thơ"]
        );
        for p in PROVINCES {
            assert_eq!(p.code.len(), 2);
            assert_eq!(
                text::fold(p.name),
                p.name_en.to_lowercase(),
                "{}: English name is the Vietnamese without accents",
                p.name
            );
        }
    }

    #[test]
    fn provinces_are_found_by_any_reasonable_spelling() {
        let name = |s: &str| Province::find(s).map(|p| p.name);
        assert_eq!(name("Hà Nội"), Some("Hà Nội"));
        assert_eq!(name("ha noi"), Some("Hà Nội"));
        assert_eq!(name("Thành phố Hồ Chí Minh"), Some("Hồ Chí Minh"));
        assert_eq!(name("TP. Hồ Chí Minh"), Some("Hồ Chí Minh"));
        assert_eq!(name("Ho Chi Minh City"), Some("Hồ Chí Minh"));
        assert_eq!(name("79"), Some("Hồ Chí Minh"));
        assert_eq!(name("Tỉnh Thanh Hoá"), Some("Thanh Hóa"));
        assert_eq!(name("Khánh Hoà"), Some("Khánh Hòa"));
        assert_eq!(name("Bà Rịa–Vũng Tàu"), Some("Bà Rịa - Vũng Tàu"));
        assert_eq!(name("DAK LAK"), Some("Đắk Lắk"));
        assert_eq!(name("Nghe An Province"), Some("Nghệ An"));
        assert_eq!(name("Hà Tây"), None, "merged into Hà Nội in 2008");
        assert_eq!(name("Sài Gòn"), None);
        assert_eq!(name(""), None);
        assert_eq!(name("03"), None);
        let hcm = Province::find("79").map(|p| (p.full_name_vi(), p.full_name_en()));
        assert_eq!(
            hcm,
            Some((
                "Thành phố Hồ Chí Minh".to_owned(),
                "Ho Chi Minh City".to_owned()
            ))
        );
        assert_eq!(
            Province::parse("province", "Atlantis").map_err(|e| e.field),
            Err("province")
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in TeamKind::ALL {
            assert_eq!(TeamKind::from_code(k.code()), Some(k));
            assert_eq!(TeamKind::parse("kind", k.code()), Ok(k));
            let json = serde_json::to_string(&k).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", k.code()));
            assert!(!k.name_vi().is_empty() && !k.name_en().is_empty());
        }
        let vi: HashSet<_> = TeamKind::ALL.iter().map(|k| k.name_vi()).collect();
        assert_eq!(vi.len(), 7);
        assert_eq!(TeamKind::from_code("club"), None);
        assert_eq!(
            TeamKind::parse("kind", "club").map_err(|e| e.problem),
            Err(Problem::NotAllowed(TeamKind::codes()))
        );
        assert_eq!(
            TeamKind::parse("kind", "").map_err(|e| e.problem),
            Err(Problem::Required)
        );
    }

    #[test]
    fn validation_reports_every_field() {
        let errors = validate_team("", "club", "Atlantis", "")
            .err()
            .unwrap_or_default();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "kind", "province", "organization"]);
        let ok = validate_team(" Đội  Sao Việt ", "student", "tp hcm", "ĐH Bách khoa");
        assert!(ok.is_err(), "“tp hcm” is not a province name");
        let ok = validate_team(
            " Đội  Sao Việt ",
            "student",
            "tp ho chi minh",
            "ĐH  Bách khoa",
        );
        assert_eq!(
            ok,
            Ok(TeamFields {
                name: "Đội Sao Việt".to_owned(),
                name_key: "doi sao viet".to_owned(),
                kind: TeamKind::Student,
                province: "Hồ Chí Minh",
                organization: "ĐH Bách khoa".to_owned(),
            })
        );
    }

    #[test]
    fn size_rules() {
        let r = SizeRule { min: 2, max: 3 };
        assert!(r.can_invite(1, 1));
        assert!(!r.can_invite(1, 2), "pending invitations hold seats");
        assert!(!r.can_invite(3, 0));
        assert!(r.can_join(2));
        assert!(!r.can_join(3));
        assert!(!r.is_complete(1));
        assert!(r.is_complete(2));
    }
}
