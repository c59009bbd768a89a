//! Strong ETags from a hash of what a response depends on, and `If-None-Match` matching.

use poem::http::HeaderValue;
use sha2::{Digest, Sha256};

pub fn make(parts: &[&str]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let mut tag = String::with_capacity(26);
    tag.push('"');
    for b in &digest[..12] {
        tag.push(char::from(HEX[usize::from(b >> 4)]));
        tag.push(char::from(HEX[usize::from(b & 15)]));
    }
    tag.push('"');
    tag
}

/// A tag from [`make`] as a header value, without copying it.
pub fn header(tag: String) -> HeaderValue {
    HeaderValue::try_from(tag).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
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
        assert_eq!(t.len(), 26);
        assert_eq!(
            t,
            format!("\"{}\"", hex::encode(&Sha256::digest(b"a\0b\0")[..12]))
        );
        assert_eq!(header(t.clone()).to_str().ok(), Some(t.as_str()));
        assert!(matches(Some(&t), &t));
        assert!(matches(Some(&format!("\"x\", W/{t}")), &t));
        assert!(matches(Some("*"), &t));
        assert!(!matches(Some("\"x\""), &t));
        assert!(!matches(None, &t));
    }
}
