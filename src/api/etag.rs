//! Strong ETags from a hash of what a response depends on, and `If-None-Match` matching.

use sha2::{Digest, Sha256};

pub fn make(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    format!("\"{}\"", hex::encode(&h.finalize()[..12]))
}

/// True when `If-None-Match` names this tag (weakly compared, as RFC 9110 asks for GET) or `*`.
pub fn matches(if_none_match: Option<&str>, tag: &str) -> bool {
    let Some(header) = if_none_match else {
        return false;
    };
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        let t = make(&["a", "b"]);
        assert_ne!(t, make(&["ab"]));
        assert!(matches(Some(&t), &t));
        assert!(matches(Some(&format!("\"x\", W/{t}")), &t));
        assert!(matches(Some("*"), &t));
        assert!(!matches(Some("\"x\""), &t));
        assert!(!matches(None, &t));
    }
}
