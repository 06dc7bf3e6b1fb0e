//! Web addresses and e-mail addresses, as a person reading aloud says them: a
//! listener cannot follow "h t t p s colon slash slash", so a link is spoken as
//! its site ("r-project.org") or left out, as the deployment chooses.

use std::borrow::Cow;

/// How links and e-mail addresses are read (`LINKS_SPOKEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkSpeech {
    /// Say the site: `https://www.r-project.org/about.html` → `r-project.org`,
    /// `jfs@debian.org` → `debian.org`.
    #[default]
    Domain,
    /// Leave links and addresses out of the spoken text.
    Omit,
}

impl std::str::FromStr for LinkSpeech {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "domain" => Ok(Self::Domain),
            "omit" => Ok(Self::Omit),
            _ => Err("must be `domain` or `omit`".to_owned()),
        }
    }
}

/// `text` with each URL and e-mail address spoken as `mode` says.
pub fn speak_links(text: &str, mode: LinkSpeech) -> Cow<'_, str> {
    if !text.contains(['@', '/', '.']) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        let space_end = tail
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(tail.len());
        let (space, next) = tail.split_at(space_end);
        match spoken(word, mode) {
            Some(replacement) => {
                changed = true;
                if replacement.is_empty() {
                    // Leave no double space behind.
                    if out.ends_with(char::is_whitespace) || out.is_empty() {
                        rest = next;
                        continue;
                    }
                    if next.is_empty() {
                        while out.ends_with(char::is_whitespace) {
                            out.pop();
                        }
                    }
                }
                if replacement
                    .starts_with(|c: char| c.is_ascii_punctuation() && !"([<\"'".contains(c))
                {
                    while out.ends_with(char::is_whitespace) {
                        out.pop();
                    }
                }
                out.push_str(&replacement);
            }
            None => out.push_str(word),
        }
        out.push_str(space);
        rest = next;
    }
    if changed { out.into() } else { text.into() }
}

/// The spoken form of one whitespace-separated word, if it holds a link.
fn spoken(word: &str, mode: LinkSpeech) -> Option<String> {
    const OPEN: &[char] = &['(', '[', '<', '"', '\'', '“', '‘', '«'];
    const CLOSE: &[char] = &[
        ')', ']', '>', '"', '\'', '”', '’', '»', '.', ',', ';', ':', '!', '?',
    ];
    // Most words hold no dot, at sign or scheme once their closing punctuation is set
    // aside ("sentence."): no link, and nothing to allocate.
    let trimmed = word.trim_end_matches(|c: char| CLOSE.contains(&c) || c == '}');
    if !trimmed.contains(['.', '@']) && !trimmed.contains("://") {
        return None;
    }
    let mut core_start = word.len() - word.trim_start_matches(OPEN).len();
    // A link inside a longer token ("url={http://x.org/a},"): from its scheme on.
    let lower = word[core_start..].to_ascii_lowercase();
    if let Some(at) = ["http://", "https://", "ftp://", "www."]
        .iter()
        .filter_map(|scheme| lower.find(scheme))
        .min()
        .filter(|at| *at > 0)
    {
        core_start += at;
    } else if let Some(at) = word.find('@') {
        // An address inside text without spaces ("”user@host.dom”主机"): from
        // the last character an address cannot hold.
        core_start = core_start.max(
            word[..at]
                .rfind(|c: char| !c.is_ascii() || OPEN.contains(&c))
                .map_or(0, |i| {
                    i + word[i..].chars().next().map_or(1, char::len_utf8)
                }),
        );
    }
    // A link ends where the ASCII does: Chinese or Japanese text runs on
    // without a space ("(https://www.debian.org)上的"). A closing bracket it
    // never opened is the sentence's.
    let mut core = &word[core_start..];
    if let Some(end) = core.find(|c: char| !c.is_ascii() || matches!(c, '"' | '<' | '>')) {
        core = &core[..end];
    }
    if !core.contains('(')
        && let Some(end) = core.find(')')
    {
        core = &core[..end];
    }
    let core = core.trim_end_matches(|c: char| CLOSE.contains(&c) || c == '}');
    let core_end = core_start + core.len();
    // A DOI ("doi:10.3906/sag-0902-21") names a paper, not a site: it is left out.
    let doi = is_doi(core);
    let host = if doi {
        String::new()
    } else {
        url_host(core).or_else(|| email_domain(core))?
    };
    let (before, after) = (&word[..core_start], &word[core_end..]);
    let mode = if doi { LinkSpeech::Omit } else { mode };
    Some(match mode {
        LinkSpeech::Domain => format!("{before}{host}{after}"),
        LinkSpeech::Omit => {
            // "<jfs@debian.org>" goes with its brackets; "(see www.x.org)." keeps
            // the ")." that closes what came before it.
            let (before, after) = if before.is_empty() {
                (before, after)
            } else {
                (
                    before.trim_end_matches(OPEN),
                    after.trim_start_matches([')', ']', '>', '"', '”', '’', '»']),
                )
            };
            format!("{before}{after}")
        }
    })
}

/// The site of a URL (`http://`, `https://`, `ftp://`, or starting `www.`),
/// without `www.`, port, path or query.
fn url_host(core: &str) -> Option<String> {
    let lower = core.to_ascii_lowercase();
    let without_scheme = ["https://", "http://", "ftp://", "ftps://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme));
    let rest = match without_scheme {
        Some(rest) => rest,
        None if lower.starts_with("www.") => lower.as_str(),
        None => return None,
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..host_end];
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h); // user:pass@host
    let host = host.split(':').next().unwrap_or(host);
    let host = host.strip_prefix("www.").unwrap_or(host);
    (is_domain(host) || host == "localhost").then(|| host.to_owned())
}

/// `doi:10.1000/xyz` (any case, a space after the colon allowed by the caller's
/// word splitting only when glued): a registrant code after "10.", then a suffix.
fn is_doi(core: &str) -> bool {
    let Some(prefix) = core.get(..4) else {
        return false;
    };
    let Some(rest) = prefix
        .eq_ignore_ascii_case("doi:")
        .then(|| &core[4..])
        .and_then(|r| r.strip_prefix("10."))
    else {
        return false;
    };
    rest.split_once('/').is_some_and(|(registrant, suffix)| {
        !registrant.is_empty()
            && registrant.chars().all(|c| c.is_ascii_digit() || c == '.')
            && !suffix.is_empty()
    })
}

/// The domain of an e-mail address (`mailto:` allowed).
fn email_domain(core: &str) -> Option<String> {
    let core = core.strip_prefix("mailto:").unwrap_or(core);
    let (local, domain) = core.split_once('@')?;
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "._%+-".contains(c));
    let domain = domain.to_lowercase();
    (local_ok && is_domain(&domain)).then_some(domain)
}

/// Labels of letters, digits and hyphens, at least two, the last alphabetic.
fn is_domain(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|tld| tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(text: &str) -> String {
        speak_links(text, LinkSpeech::Domain).into_owned()
    }

    fn omit(text: &str) -> String {
        speak_links(text, LinkSpeech::Omit).into_owned()
    }

    #[test]
    fn links_are_spoken_as_their_site() {
        // debhist_en.pdf page 2, and R-intro's links.
        assert_eq!(
            domain("• Javier Fernández-Sanguino jfs@debian.org"),
            "• Javier Fernández-Sanguino debian.org"
        );
        assert_eq!(
            domain(
                "See https://www.R-project.org/about.html, then (http://cran.r-project.org:80/)."
            ),
            "See r-project.org, then (cran.r-project.org)."
        );
        assert_eq!(
            domain("Mail <Bill.Mitchell@pobox.com> now."),
            "Mail <pobox.com> now."
        );
        assert_eq!(domain("mailto:x@example.org"), "example.org");
        // alpha-persian_userguide.pdf's BibTeX: the link inside a field.
        assert_eq!(
            domain("murl={http://www.sid.ir/fa/journal/ViewPaper.aspx?id=1},"),
            "murl={sid.ir},"
        );
    }

    #[test]
    fn a_doi_is_left_out() {
        // pdfparse_04-valid_quark.pdf page 1.
        assert_eq!(
            domain("E-mail: x@tubitak.gov.tr doi:10.3906/sag-0902-21 361"),
            "E-mail: tubitak.gov.tr 361"
        );
        assert_eq!(omit("(doi:10.1000/182)."), ".");
        assert_eq!(domain("doi: a word"), "doi: a word");
        // debref_zh-cn.pdf, pages 25, 139 and 199: links in text without spaces.
        assert_eq!(
            domain("Debian 网站(https://www.debian.org)上的通用信息。"),
            "Debian 网站(debian.org)上的通用信息。"
        );
        assert_eq!(
            domain("浏览器访问”http://localhost:631/” 来配置"),
            "浏览器访问”localhost” 来配置"
        );
        assert_eq!(
            domain("主机上的”user@host.dom”主机"),
            "主机上的”host.dom”主机"
        );
    }

    #[test]
    fn links_can_be_left_out() {
        assert_eq!(
            omit("Significant contributions by jfs@debian.org and others."),
            "Significant contributions by and others."
        );
        assert_eq!(omit("Mail <lohner@debian.org>."), "Mail.");
        assert_eq!(omit("(see www.debian.org) now"), "(see) now");
        assert_eq!(omit("jfs@debian.org"), "");
    }

    #[test]
    fn what_is_not_a_link_is_left_alone() {
        for text in [
            "debian.org is a site.",
            "Use /usr/bin/env and e.g. x@y.",
            "Version 2.2 of R-3.4 at 10.5 per cent.",
            "user@localhost",
            "Twitter @debian said so.",
        ] {
            assert_eq!(domain(text), text);
            assert!(matches!(
                speak_links(text, LinkSpeech::Domain),
                Cow::Borrowed(_)
            ));
        }
    }
}
