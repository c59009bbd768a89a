//! Text helpers shared by search and uniqueness rules: Vietnamese accent folding and NFC.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds text for search and case/accent-insensitive comparison: decomposes it, drops the
/// combining marks (Vietnamese tones and vowel marks), maps `đ`/`Đ` to `d` and lowercases.
/// `"Chuyển đổi số"` folds to `"chuyen doi so"`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Folded, whitespace-separated search terms of a query; empty when the query has none.
pub fn terms(query: &str) -> Vec<String> {
    fold(query).split_whitespace().map(str::to_owned).collect()
}

/// True when every term occurs in the folded haystack.
pub fn matches_all(folded_haystack: &str, terms: &[String]) -> bool {
    terms.iter().all(|t| folded_haystack.contains(t.as_str()))
}

/// Normalizes to NFC and trims surrounding white space.
pub fn clean(s: &str) -> String {
    s.trim().nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese_accents_case_and_d_bar() {
        assert_eq!(fold("Chuyển Đổi Số"), "chuyen doi so");
        assert_eq!(fold("ĐƯỜNG BỘ"), "duong bo");
        assert_eq!(fold("Nghệ An"), "nghe an");
    }

    #[test]
    fn folds_precomposed_and_decomposed_alike() {
        let precomposed = "Quảng Ninh";
        let decomposed: String = precomposed.nfd().collect();
        assert_ne!(precomposed, decomposed);
        assert_eq!(fold(precomposed), fold(&decomposed));
    }

    #[test]
    fn all_terms_must_match() {
        let hay = fold("Nền tảng chuyển đổi số cho cửa khẩu");
        assert!(matches_all(&hay, &terms("chuyen doi so")));
        assert!(matches_all(&hay, &terms("CỬA khau")));
        assert!(matches_all(&hay, &terms("d")));
        assert!(!matches_all(&hay, &terms("cua khau benh vien")));
        assert!(matches_all(&hay, &terms("   ")));
    }

    #[test]
    fn clean_trims_and_composes() {
        let decomposed: String = "  Hà Nội ".nfd().collect();
        assert_eq!(clean(&decomposed), "Hà Nội");
    }
}
