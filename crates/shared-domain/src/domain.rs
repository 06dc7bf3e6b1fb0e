//! Domain types: identifiers as newtypes and the status vocabularies stored in
//! Postgres. The string forms are the database's CHECK-constrained values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_newtype!(
    /// A book: one uploaded PDF of one household.
    BookId
);
id_newtype!(
    /// A unit of background work on a book.
    JobId
);
id_newtype!(
    /// A household: the tenant that owns books.
    HouseholdId
);

/// What a book file is, told by its content at upload; its object key's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookFormat {
    Pdf,
    Epub,
}

impl BookFormat {
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Epub => "epub",
        }
    }

    /// The format an object key names (`….pdf`, `….epub`).
    pub fn of_key(key: &str) -> Option<Self> {
        let (_, extension) = key.rsplit_once('.')?;
        [Self::Pdf, Self::Epub]
            .into_iter()
            .find(|f| f.extension() == extension)
    }
}

/// The languages OCR reads, as the worker image carries them: (ISO 639-1, the
/// other ISO 639 codes that name it, Tesseract's code).
pub const OCR_LANGUAGES: [(&str, &[&str], &str); 10] = [
    ("en", &["eng"], "eng"),
    ("fr", &["fra", "fre"], "fra"),
    ("de", &["deu", "ger"], "deu"),
    ("es", &["spa"], "spa"),
    ("it", &["ita"], "ita"),
    ("pt", &["por"], "por"),
    ("ru", &["rus"], "rus"),
    ("ar", &["ara"], "ara"),
    (
        "zh",
        &["zho", "chi", "chi_sim", "zh-hans", "zh-cn"],
        "chi_sim",
    ),
    ("ja", &["jpn"], "jpn"),
];

/// Tesseract's code for an ISO 639 language code ("en", "eng", "fre", "zh-Hans"),
/// if OCR reads that language.
pub fn ocr_language(code: &str) -> Option<&'static str> {
    let code = code.trim().to_ascii_lowercase();
    let alternative = code.replace(['_', '-'], "");
    let same = |name: &str| name == code || name.replace(['_', '-'], "") == alternative;
    OCR_LANGUAGES
        .iter()
        .find(|(iso1, others, tesseract)| {
            same(iso1) || others.iter().any(|o| same(o)) || same(tesseract)
        })
        .map(|(_, _, tesseract)| *tesseract)
}

/// Object key of a book's file: `{household_id}/books/{book_id}.pdf` (or `.epub`).
pub fn book_object_key(household: HouseholdId, book: BookId, format: BookFormat) -> String {
    format!("{household}/books/{book}.{}", format.extension())
}

#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownVariant {
    kind: &'static str,
    value: String,
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $kind:literal { $($variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok(Self::$variant),)+
                    other => Err(UnknownVariant { kind: $kind, value: other.to_owned() }),
                }
            }
        }
    };
}

string_enum!(
    /// `books.status`.
    BookStatus, "book status" {
        Processing => "processing",
        Ready => "ready",
        Failed => "failed",
    }
);

string_enum!(
    /// `jobs.status`. `queued` and `running` are active; the others are final until
    /// an operator retries a `failed` or `dead` job.
    JobStatus, "job status" {
        Queued => "queued",
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        Dead => "dead",
    }
);

string_enum!(
    /// `jobs.kind`.
    JobKind, "job kind" {
        ProcessBook => "process_book",
    }
);

string_enum!(
    /// `book_chunks.kind`: where a chunk sits in the book. The default reading flow
    /// is `body`; the rest is kept, labelled, and read on request.
    ChunkKind, "chunk kind" {
        Body => "body",
        FrontMatter => "front_matter",
        Contents => "contents",
        Notes => "notes",
        Index => "index",
        BackMatter => "back_matter",
        Code => "code",
        Table => "table",
        Formula => "formula",
    }
);

impl ChunkKind {
    /// Read aloud when a listener just presses play.
    pub const fn in_reading_flow(self) -> bool {
        matches!(self, Self::Body)
    }
}

impl JobStatus {
    pub const fn is_active(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_strings() {
        for s in BookStatus::ALL {
            assert_eq!(s.as_str().parse::<BookStatus>().unwrap(), *s);
        }
        for s in JobStatus::ALL {
            assert_eq!(s.as_str().parse::<JobStatus>().unwrap(), *s);
        }
        assert!("done".parse::<JobStatus>().is_err());
        for k in ChunkKind::ALL {
            assert_eq!(k.as_str().parse::<ChunkKind>().unwrap(), *k);
        }
    }

    #[test]
    fn ocr_languages_are_named_by_any_iso_code() {
        assert_eq!(ocr_language("en"), Some("eng"));
        assert_eq!(ocr_language("ENG"), Some("eng"));
        assert_eq!(ocr_language("fre"), Some("fra"));
        assert_eq!(ocr_language("zh-Hans"), Some("chi_sim"));
        assert_eq!(ocr_language("chi_sim"), Some("chi_sim"));
        assert_eq!(ocr_language("xx"), None);
        assert_eq!(ocr_language("tlh"), None);
    }

    #[test]
    fn object_key_follows_the_layout() {
        let h: HouseholdId = "11111111-1111-1111-1111-111111111111".parse().unwrap();
        let b: BookId = "22222222-2222-2222-2222-222222222222".parse().unwrap();
        assert_eq!(
            book_object_key(h, b, BookFormat::Pdf),
            "11111111-1111-1111-1111-111111111111/books/22222222-2222-2222-2222-222222222222.pdf"
        );
        let epub = book_object_key(h, b, BookFormat::Epub);
        assert!(epub.ends_with("22222222-2222-2222-2222-222222222222.epub"));
        assert_eq!(BookFormat::of_key(&epub), Some(BookFormat::Epub));
        assert_eq!(BookFormat::of_key("a/books/b.pdf"), Some(BookFormat::Pdf));
        assert_eq!(BookFormat::of_key("a/books/b.txt"), None);
    }
}
