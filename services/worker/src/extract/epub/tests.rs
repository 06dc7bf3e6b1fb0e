use super::*;

#[test]
fn names_that_leave_the_archive_are_unsafe() {
    for name in ["OEBPS/ch1.xhtml", "mimetype", "OEBPS/c..xhtml"] {
        assert!(is_safe_name(name), "{name}");
    }
    for name in ["../evil", "/etc/passwd", "a/../b", "C:/x", "a\\..\\b"] {
        assert!(!is_safe_name(name), "{name}");
    }
}

#[test]
fn hrefs_resolve_against_their_document() {
    assert_eq!(
        resolve("OEBPS/content.opf", "Text/ch%201.xhtml#s1").as_deref(),
        Some("OEBPS/Text/ch 1.xhtml")
    );
    assert_eq!(
        resolve("OEBPS/nav/nav.xhtml", "../Text/ch1.xhtml").as_deref(),
        Some("OEBPS/Text/ch1.xhtml")
    );
    assert_eq!(
        resolve("content.opf", "ch1.xhtml").as_deref(),
        Some("ch1.xhtml")
    );
    assert_eq!(resolve("content.opf", "../../x.xhtml"), None);
    assert_eq!(resolve("content.opf", "https://example.org/x"), None);
}

#[test]
fn xhtml_becomes_paragraphs_with_notes_out_of_the_flow() {
    let page = r##"<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>Ignored</title><style>p { color: red }</style></head>
<body>
  <h1>Chapter&nbsp;1. The Storm</h1>
  <p>It was a <em>dark</em> night,<br/>and the wind
     rose.<a href="#fn1" epub:type="noteref"><sup>1</sup></a> They waited.</p>
  <script>alert("no")</script>
  <ul><li>First item</li><li>Second &amp; last</li></ul>
  <pre>fn main() {
    println!("hi");
}</pre>
  <table><tr><td>Name</td><td>Age</td></tr><tr><td>Ann</td><td>7</td></tr></table>
  <aside id="fn1" epub:type="footnote"><p>A note on the storm.</p>
    <a href="#r1" role="doc-backlink">↩</a></aside>
</body></html>"##;
    let blocks = xhtml_blocks(page).unwrap();
    let seen: Vec<(&str, BlockKind, bool)> = blocks
        .iter()
        .map(|b| (b.text.as_str(), b.kind, b.heading))
        .collect();
    assert_eq!(
        seen,
        [
            ("Chapter 1. The Storm", BlockKind::Body, true),
            (
                "It was a dark night, and the wind rose. They waited.",
                BlockKind::Body,
                false
            ),
            ("First item", BlockKind::Body, false),
            ("Second & last", BlockKind::Body, false),
            (
                "fn main() {\n    println!(\"hi\");\n}",
                BlockKind::Code,
                false
            ),
            ("Name | Age\nAnn | 7", BlockKind::Table, false),
            ("A note on the storm.", BlockKind::Notes, false),
        ]
    );
}

#[test]
fn entity_declarations_are_refused() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<html><body><p>&lol2;</p></body></html>"#;
    let e = xhtml_blocks(laughs).unwrap_err();
    assert_eq!(e.code, BookErrorCode::UnsafeEpub);
}

#[test]
fn navigation_comes_from_nav_or_ncx() {
    let nav = r##"<html xmlns:epub="http://www.idpf.org/2007/ops"><body>
<nav epub:type="landmarks"><ol><li><a href="x.xhtml">Not this</a></li></ol></nav>
<nav epub:type="toc"><h1>Contents</h1><ol>
  <li><a href="text/ch1.xhtml">One</a><ol><li><a href="text/ch1.xhtml#s">One, a</a></li></ol></li>
  <li><a href="text/ch2.xhtml"><span>Two</span></a></li>
</ol></nav></body></html>"##;
    let targets = parse_nav(nav, "OEBPS/nav.xhtml").unwrap();
    let seen: Vec<(&str, u32, &str)> = targets
        .iter()
        .map(|t| (t.title.as_str(), t.level, t.path.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("One", 1, "OEBPS/text/ch1.xhtml"),
            ("One, a", 2, "OEBPS/text/ch1.xhtml"),
            ("Two", 1, "OEBPS/text/ch2.xhtml"),
        ]
    );
    let ncx = r#"<ncx><navMap>
<navPoint id="a"><navLabel><text>One</text></navLabel><content src="ch1.xhtml"/>
  <navPoint id="b"><navLabel><text>One, a</text></navLabel><content src="ch1.xhtml#a"/></navPoint>
</navPoint>
<navPoint id="c"><navLabel><text>Two</text></navLabel><content src="ch2.xhtml"/></navPoint>
</navMap></ncx>"#;
    let targets = parse_ncx(ncx, "toc.ncx").unwrap();
    let seen: Vec<(&str, u32)> = targets
        .iter()
        .map(|t| (t.title.as_str(), t.level))
        .collect();
    assert_eq!(seen, [("One", 1), ("One, a", 2), ("Two", 1)]);
}

#[test]
fn entities_are_unescaped() {
    assert_eq!(
        unescape("a &amp; b &#8217; &#x2014; &nbsp;&unknown;"),
        "a & b ’ — \u{a0}&unknown;"
    );
}
