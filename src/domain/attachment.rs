//! Attachment rules: the allowed file types, how a type is recognised from the file's first
//! bytes (not from its name alone), and how a file name people send is made safe to show.
//!
//! The magic-byte check is written here rather than taken from a crate because the rule is
//! small and strict: the name's extension picks the type, and the content must carry that type's
//! signature. DOCX, PPTX and XLSX are ZIP containers; their inner layout is checked after the
//! upload lands (see `FileKind::ooxml_part`), since it is only known from the ZIP's directory at
//! the end of the file.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::account::{Invalid, Problem};

/// Longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 160;

/// Bytes needed to recognise every type.
pub const SNIFF_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Pdf,
    Docx,
    Pptx,
    Xlsx,
    Zip,
    Mp4,
    Png,
    Jpg,
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    Pdf,
    Zip,
    Mp4,
    Png,
    Jpeg,
}

impl Signature {
    pub fn name(self) -> &'static str {
        match self {
            Signature::Pdf => "PDF",
            Signature::Zip => "ZIP",
            Signature::Mp4 => "MP4",
            Signature::Png => "PNG",
            Signature::Jpeg => "JPEG",
        }
    }
}

impl FileKind {
    pub const ALL: &'static [FileKind] = &[
        FileKind::Pdf,
        FileKind::Docx,
        FileKind::Pptx,
        FileKind::Xlsx,
        FileKind::Zip,
        FileKind::Mp4,
        FileKind::Png,
        FileKind::Jpg,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Docx => "docx",
            FileKind::Pptx => "pptx",
            FileKind::Xlsx => "xlsx",
            FileKind::Zip => "zip",
            FileKind::Mp4 => "mp4",
            FileKind::Png => "png",
            FileKind::Jpg => "jpg",
        }
    }

    pub fn from_code(s: &str) -> Option<FileKind> {
        FileKind::ALL.iter().copied().find(|k| k.code() == s)
    }

    /// The type a file name claims, by its extension (any case; `.jpeg` is JPG).
    pub fn from_name(name: &str) -> Option<FileKind> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "jpeg" => Some(FileKind::Jpg),
            other => FileKind::from_code(other),
        }
    }

    /// The media type sent on download.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Zip => "application/zip",
            FileKind::Mp4 => "video/mp4",
            FileKind::Png => "image/png",
            FileKind::Jpg => "image/jpeg",
        }
    }

    /// The signature the content must carry.
    pub fn signature(self) -> Signature {
        match self {
            FileKind::Pdf => Signature::Pdf,
            FileKind::Docx | FileKind::Pptx | FileKind::Xlsx | FileKind::Zip => Signature::Zip,
            FileKind::Mp4 => Signature::Mp4,
            FileKind::Png => Signature::Png,
            FileKind::Jpg => Signature::Jpeg,
        }
    }

    /// For Office files: a part every such document holds, looked up in the ZIP's directory.
    pub fn ooxml_part(self) -> Option<&'static str> {
        match self {
            FileKind::Docx => Some("word/document.xml"),
            FileKind::Pptx => Some("ppt/presentation.xml"),
            FileKind::Xlsx => Some("xl/workbook.xml"),
            _ => None,
        }
    }

    /// "PDF, DOCX, …" for messages.
    pub fn allowed_list() -> String {
        FileKind::ALL
            .iter()
            .map(|k| k.code().to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Recognises a file's type from its first bytes (up to [`SNIFF_BYTES`]).
pub fn sniff(prefix: &[u8]) -> Option<Signature> {
    if prefix.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Signature::Png)
    } else if prefix.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Signature::Jpeg)
    } else if prefix.starts_with(b"PK\x03\x04") {
        Some(Signature::Zip)
    } else if prefix.len() >= 12 && &prefix[4..8] == b"ftyp" {
        Some(Signature::Mp4)
    } else if prefix.windows(5).take(SNIFF_BYTES).any(|w| w == b"%PDF-") {
        // The PDF header may follow a few bytes of junk, within the first kilobyte.
        Some(Signature::Pdf)
    } else {
        None
    }
}

/// Checks the first bytes against the type the name claims. `field` names the input.
pub fn check_content(field: &'static str, kind: FileKind, prefix: &[u8]) -> Result<(), Invalid> {
    if prefix.is_empty() {
        return Err(Invalid {
            field,
            problem: Problem::EmptyFile,
        });
    }
    match sniff(prefix) {
        Some(sig) if sig == kind.signature() => Ok(()),
        found => Err(Invalid {
            field,
            problem: Problem::TypeMismatch(found.map_or("?", Signature::name).to_owned()),
        }),
    }
}

/// Makes a file name safe to store and show, or refuses it. The name is trimmed and normalized
/// to NFC; it may not hold path separators, control characters, invisible formatting characters
/// (bidirectional overrides, zero-width marks), or be `.`/`..`; it needs an allowed extension and
/// at most [`MAX_NAME_CHARS`] characters. Returns the clean name and its type.
pub fn clean_file_name(field: &'static str, raw: &str) -> Result<(String, FileKind), Invalid> {
    let bad = || Invalid {
        field,
        problem: Problem::BadFileName,
    };
    let name: String = raw.trim().nfc().collect();
    if name.is_empty() {
        return Err(Invalid {
            field,
            problem: Problem::Required,
        });
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Invalid {
            field,
            problem: Problem::TooLong(MAX_NAME_CHARS),
        });
    }
    let forbidden = |c: char| {
        matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
            // Look-alike slashes and backslashes.
            || matches!(c, '\u{2044}' | '\u{2215}' | '\u{29F5}' | '\u{29F8}' | '\u{29F9}' | '\u{FF0F}' | '\u{FF3C}')
            || c.is_control()
            || is_invisible(c)
    };
    if name.chars().any(forbidden) || name.starts_with('.') {
        return Err(bad());
    }
    let kind = FileKind::from_name(&name).ok_or_else(|| Invalid {
        field,
        problem: Problem::FileType(FileKind::allowed_list()),
    })?;
    Ok((name, kind))
}

/// Format characters that change how a name looks without being seen.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{2028}' | '\u{2029}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FFA0}'
        | '\u{E0000}'..='\u{E007F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E000}'..='\u{F8FF}')
}

/// A `Content-Disposition: attachment` value that carries any name safely: an ASCII fallback
/// and the UTF-8 name percent-encoded (RFC 6266 / RFC 8187).
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signatures() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(Signature::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Signature::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Signature::Jpeg));
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(Signature::Zip));
        assert_eq!(sniff(b"\0\0\0\x20ftypisom\0\0"), Some(Signature::Mp4));
        assert_eq!(sniff(b"hello world"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn content_must_match_the_name() {
        assert!(check_content("file", FileKind::Pdf, b"%PDF-1.4").is_ok());
        assert!(check_content("file", FileKind::Docx, b"PK\x03\x04").is_ok());
        let e = check_content("file", FileKind::Pdf, b"\x89PNG\r\n\x1a\n").unwrap_err();
        assert_eq!(e.problem, Problem::TypeMismatch("PNG".into()));
        let e = check_content("file", FileKind::Png, b"MZ\x90\0").unwrap_err();
        assert_eq!(e.problem, Problem::TypeMismatch("?".into()));
        assert_eq!(
            check_content("file", FileKind::Png, b"")
                .unwrap_err()
                .problem,
            Problem::EmptyFile
        );
    }

    #[test]
    fn names_are_cleaned_or_refused() {
        let (n, k) = clean_file_name("file", "  Thuyết minh giải pháp.PDF ").expect("ok");
        assert_eq!(n, "Thuyết minh giải pháp.PDF");
        assert_eq!(k, FileKind::Pdf);
        // Decomposed input comes out composed.
        let (n, _) = clean_file_name("file", "Tie\u{0302}\u{0301}ng.docx").expect("ok");
        assert_eq!(n, "Tiếng.docx");
        assert_eq!(clean_file_name("f", "a.jpeg").expect("ok").1, FileKind::Jpg);
        for bad in [
            "../etc/passwd.pdf",
            "a/b.pdf",
            "a\\b.pdf",
            "a\nb.pdf",
            "a\u{202E}fdp.exe",
            "x\u{200B}.pdf",
            "a\u{2028}b.pdf",
            "a\u{034F}.pdf",
            "\u{2215}etc\u{2215}passwd.pdf",
            "a\u{FF0F}b.pdf",
            "..pdf",
            ".hidden.pdf",
            "C:evil.pdf",
        ] {
            assert_eq!(
                clean_file_name("file", bad).unwrap_err().problem,
                Problem::BadFileName,
                "{bad:?}"
            );
        }
        assert!(matches!(
            clean_file_name("file", "virus.exe").unwrap_err().problem,
            Problem::FileType(_)
        ));
        assert!(matches!(
            clean_file_name("file", "noextension").unwrap_err().problem,
            Problem::FileType(_)
        ));
        assert_eq!(
            clean_file_name("file", "   ").unwrap_err().problem,
            Problem::Required
        );
        let long = format!("{}.pdf", "a".repeat(MAX_NAME_CHARS));
        assert_eq!(
            clean_file_name("file", &long).unwrap_err().problem,
            Problem::TooLong(MAX_NAME_CHARS)
        );
    }

    #[test]
    fn disposition_carries_unicode_safely() {
        let d = content_disposition("Báo cáo \"cuối\".pdf");
        assert!(
            d.starts_with("attachment; filename=\"B_o c_o _cu_i_.pdf\""),
            "{d}"
        );
        assert!(d.contains("filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20%22cu%E1%BB%91i%22.pdf"));
    }

    proptest! {
        /// Whatever people send, a name that is accepted holds no separator or control character.
        #[test]
        fn accepted_names_are_safe(raw in "\\PC{0,40}\\.(pdf|png|zip)") {
            if let Ok((name, _)) = clean_file_name("file", &raw) {
                prop_assert!(!name.contains('/') && !name.contains('\\'));
                prop_assert!(!name.chars().any(char::is_control));
                prop_assert!(!name.starts_with('.'));
            }
        }

        /// The disposition header value is always plain ASCII without a raw quote inside.
        #[test]
        fn disposition_is_ascii(name in "\\PC{1,40}") {
            let d = content_disposition(&name);
            prop_assert!(d.is_ascii());
            let inner = &d["attachment; filename=\"".len()..];
            let end = inner.find('"').unwrap_or(0);
            prop_assert!(inner[end + 1..].starts_with("; filename*="));
        }
    }
}
