//! The language a book is written in, from its body text: the bot picks a voice
//! with it. Samples from the start, middle and end vote (a preface in another
//! language, or a quoted passage, does not decide), and a book no sample is sure
//! about has no language rather than a guess.

use std::collections::HashMap;

use shared_domain::domain::ChunkKind;
use whatlang::Lang;

use super::Paragraph;

/// Bytes of text per sample, and samples per book.
const SAMPLE_CHARS: usize = 1500;
const SAMPLES: usize = 9;
/// Fewer letters than this in the whole book: no language.
const MIN_LETTERS: usize = 40;

/// The book's language as a BCP 47 primary tag (ISO 639-1 where there is one:
/// `en`, `ru`, `zh`, `ja`, `fa`), or `None` when the text does not say reliably.
pub fn detect(paragraphs: &[Paragraph]) -> Option<&'static str> {
    let chunks = paragraphs;
    let body: Vec<&Paragraph> = chunks
        .iter()
        .filter(|c| c.kind == ChunkKind::Body)
        .collect();
    let pool = if body.is_empty() {
        chunks.iter().collect()
    } else {
        body
    };
    // A few words ("Dadfrtfjh, mgf.") say nothing about a language.
    let letters: usize = pool
        .iter()
        .map(|c| c.text.chars().filter(|c| c.is_alphabetic()).count())
        .sum();
    if letters < MIN_LETTERS {
        return None;
    }
    let mut votes: HashMap<Lang, f64> = HashMap::new();
    let mut total = 0.0;
    // A short book is one sample; a long one, samples spread over it.
    let chars: usize = pool.iter().map(|p| p.text.len()).sum();
    let (step, limit) = if chars <= SAMPLE_CHARS * SAMPLES {
        (pool.len(), SAMPLE_CHARS * SAMPLES)
    } else {
        ((pool.len() / SAMPLES).max(1), SAMPLE_CHARS)
    };
    for start in (0..pool.len()).step_by(step).take(SAMPLES) {
        let mut sample = String::new();
        for chunk in &pool[start..] {
            if sample.len() >= limit {
                break;
            }
            sample.push_str(&chunk.text);
            sample.push('\n');
        }
        let sample = without_latin_quotes(&sample);
        let Some(info) = whatlang::detect(&sample) else {
            continue;
        };
        total += 1.0;
        *votes.entry(info.lang()).or_default() += info.confidence();
    }
    let mut ranked: Vec<(Lang, f64)> = votes.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (lang, weight) = *ranked.first()?;
    let runner_up = ranked.get(1).map_or(0.0, |r| r.1);
    // Every sample agrees, or a quarter of the samples' full confidence goes to
    // it; either way clearly ahead of the next.
    let sure = ranked.len() == 1 || weight * 4.0 >= total;
    (sure && weight >= runner_up * 1.5).then(|| tag(lang))
}

/// Books in Japanese, Chinese, Russian… quote commands, names and URLs in Latin
/// letters, often more letters than their own text has (a kanji is a word). When
/// a tenth of the letters are of another script, the Latin words are set aside.
fn without_latin_quotes(sample: &str) -> std::borrow::Cow<'_, str> {
    // Letters only: U+00D7 × and U+00F7 ÷ sit in the Latin-1 range too.
    let is_latin = |c: char| {
        c.is_alphabetic() && (c.is_ascii_alphabetic() || ('\u{C0}'..='\u{24F}').contains(&c))
    };
    let letters = sample.chars().filter(|c| c.is_alphabetic()).count();
    let latin = sample.chars().filter(|c| is_latin(*c)).count();
    if letters == 0 || letters.saturating_sub(latin) * 10 < letters {
        return sample.into();
    }
    sample
        .split_whitespace()
        .filter(|w| !w.chars().any(is_latin))
        .collect::<Vec<_>>()
        .join(" ")
        .into()
}

/// ISO 639-1 for whatlang's ISO 639-3 codes (all of them have one).
fn tag(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str, kind: ChunkKind) -> Paragraph {
        Paragraph {
            text: text.into(),
            page_start: 1,
            page_end: 1,
            kind,
            heading: false,
        }
    }

    #[test]
    fn the_body_decides_the_language() {
        let german = "Der Paketmanager installiert die Software und prüft dabei die \
                      Abhängigkeiten, bevor er die Dateien in das System kopiert.";
        let english = "Copyright and licence: permission is granted to copy this manual.";
        let mut chunks = vec![chunk(english, ChunkKind::FrontMatter)];
        chunks.extend((0..20).map(|_| chunk(german, ChunkKind::Body)));
        assert_eq!(detect(&chunks), Some("de"));
        let russian = "Менеджер пакетов устанавливает программы и проверяет зависимости, \
                       а затем копирует файлы в систему.";
        assert_eq!(detect(&[chunk(russian, ChunkKind::Body)]), Some("ru"));
        assert_eq!(
            detect(&[chunk(
                "これは日本語の文章です。本を読みます。毎晩、家族のために本を声に出して読みます。\
                     子どもたちはその物語がとても好きです。",
                ChunkKind::Body
            )]),
            Some("ja")
        );
    }

    #[test]
    fn no_text_or_no_words_has_no_language() {
        assert_eq!(detect(&[]), None);
        assert_eq!(detect(&[chunk("12 34 56 -- 78", ChunkKind::Body)]), None);
        // × is in the Latin-1 block but is not a letter.
        assert_eq!(
            detect(&[chunk(
                "The result is a 3×4 matrix of real numbers with twelve entries, one per cell.",
                ChunkKind::Body
            )]),
            Some("en")
        );
        // pdfparse_05-word2016.pdf's whole text.
        assert_eq!(
            detect(&[chunk("Dadfrtfjh,mgf. v.0.01.", ChunkKind::Body)]),
            None
        );
    }
}
