use super::font::Font;
use super::layout::wrap;
use super::*;

const URL: &str = "https://qoltanba.example.kz/v1/documents/KZ-19850-2026-000017/verify";
const KAZAKH: &str = "әғқңөұүһі ӘҒҚҢӨҰҮҺІ";

fn doc<'a>(fields: &'a [(&'a str, &'a str)]) -> PdfDocument<'a> {
    PdfDocument {
        title: "ЛИЦЕНЗИЯ / ЛИЦЕНЗИЯ",
        number: "KZ-19850-2026-000017",
        date: "2026-11-23",
        fields,
        footer: "Документ подписан ЭЦП / ЭЦҚ-мен қол қойылған",
        verification_url: URL,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// The cross-reference table as (object number, offset) for the objects in use, checking its
/// syntax and the trailer's /Size on the way.
fn xref(pdf: &[u8]) -> Vec<(usize, usize)> {
    let at = rfind(pdf, b"startxref\n").expect("startxref");
    let tail = std::str::from_utf8(&pdf[at..]).expect("ASCII tail");
    let offset: usize = tail
        .lines()
        .nth(1)
        .expect("offset")
        .parse()
        .expect("number");
    let table = std::str::from_utf8(&pdf[offset..at]).expect("ASCII xref");
    let mut lines = table.split('\n');
    assert_eq!(lines.next(), Some("xref"));
    let header = lines.next().expect("subsection");
    let (first, size) = header.split_once(' ').expect("first count");
    assert_eq!(first, "0");
    let size: usize = size.parse().expect("count");
    assert!(table.contains(&format!("/Size {size} ")));
    let mut used = Vec::new();
    for num in 0..size {
        let entry = lines.next().expect("entry");
        assert_eq!(
            entry.len(),
            19,
            "entry {num} {entry:?} is not 20 bytes with its LF"
        );
        if num == 0 {
            assert_eq!(entry, "0000000000 65535 f ");
            continue;
        }
        assert!(entry.ends_with(" 00000 n "), "{entry:?}");
        used.push((num, entry[..10].parse().expect("offset")));
    }
    assert_eq!(lines.next(), Some("trailer"));
    used
}

#[test]
fn header_and_eof() {
    let pdf = render(&doc(&[("Атауы", "Мәні")])).expect("render");
    assert!(pdf.starts_with(b"%PDF-1.7\n"));
    assert!(pdf.ends_with(b"%%EOF\n"));
}

#[test]
fn xref_offsets_point_at_their_objects() {
    let fields = [("Лицензиат / Лицензиат", "ТОО «Қолтаңба»"); 3];
    let pdf = render(&doc(&fields)).expect("render");
    let objects = xref(&pdf);
    assert!(objects.len() >= 11, "{} objects", objects.len());
    for (num, offset) in objects {
        let head = format!("{num} 0 obj\n");
        assert!(
            pdf[offset..].starts_with(head.as_bytes()),
            "object {num} not at {offset}"
        );
    }
}

#[test]
fn stream_lengths_are_exact() {
    let pdf = render(&doc(&[("a", "b")])).expect("render");
    let mut from = 0;
    let mut streams = 0;
    while let Some(at) = find(&pdf[from..], b"/Length ") {
        let start = from + at + b"/Length ".len();
        let digits = pdf[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let length: usize = std::str::from_utf8(&pdf[start..start + digits])
            .expect("digits")
            .parse()
            .expect("length");
        let data = start + find(&pdf[start..], b">>\nstream\n").expect("stream") + 10;
        assert!(pdf[data + length..].starts_with(b"\nendstream\nendobj\n"));
        streams += 1;
        from = data + length;
    }
    // 1 content stream, ToUnicode, CIDToGIDMap, FontFile2.
    assert_eq!(streams, 4);
}

#[test]
fn font_is_embedded_with_identity_h_and_to_unicode() {
    let pdf = render(&doc(&[("Кілт", KAZAKH)])).expect("render");
    for needle in [
        &b"/Subtype /Type0"[..],
        b"/Encoding /Identity-H",
        b"/Subtype /CIDFontType2",
        b"/FontFile2 ",
        b"/ToUnicode ",
        b"/W [1 [",
        b"beginbfchar",
    ] {
        assert!(
            find(&pdf, needle).is_some(),
            "{}",
            String::from_utf8_lossy(needle)
        );
    }
    assert_eq!(count(&pdf, b"/Length1 "), 1);
    // The whole font is embedded, Flate-compressed: its stream inflates back to the font.
    let compressed = super::compressed_font();
    assert!(
        pdf.windows(compressed.len()).any(|w| w == compressed),
        "the font stream is in the PDF"
    );
    let inflated = miniz_oxide::inflate::decompress_to_vec_zlib(compressed).expect("zlib");
    assert_eq!(inflated, FONT_DATA);
    assert!(find(&pdf, b"/Filter /FlateDecode /Length1 ").is_some());
}

#[test]
fn kazakh_letters_have_real_glyphs_and_unicode_mappings() {
    let mut font = Font::load().expect("font");
    let encoded = font.encode(KAZAKH);
    let map = font.cid_to_gid_map();
    let cmap = String::from_utf8(font.to_unicode()).expect("ASCII CMap");
    for (i, ch) in KAZAKH.chars().enumerate() {
        let cid = usize::from_str_radix(&encoded[1 + 4 * i..5 + 4 * i], 16).expect("hex");
        let gid = u16::from_be_bytes([map[2 * cid], map[2 * cid + 1]]);
        if ch != ' ' {
            assert_ne!(gid, 0, "{ch} has no glyph");
        }
        let mapping = format!("<{cid:04X}> <{:04X}>", u32::from(ch));
        assert!(cmap.contains(&mapping), "{mapping} missing for {ch}");
    }
}

#[test]
fn missing_characters_fall_back_to_notdef_but_stay_extractable() {
    // DejaVu Sans has no CJK and no 𝄞 (U+1D11E, a UTF-16 surrogate pair in the CMap).
    let pdf = render(&doc(&[("missing", "中文 𝄞 \u{10FFFF}")])).expect("render");
    assert!(find(&pdf, b"> <4E2D>").is_some());
    assert!(find(&pdf, b"> <D834DD1E>").is_some());
    let mut font = Font::load().expect("font");
    font.encode("中");
    assert_eq!(font.cid_to_gid_map(), vec![0, 0, 0, 0]);
}

#[test]
fn wrapped_lines_fit_and_keep_every_word() {
    let mut font = Font::load().expect("font");
    let text =
        "Қазақстан Республикасының лицензиясы бойынша рұқсат етілген қызмет түрі ".repeat(20);
    let lines = wrap(&mut font, &text, 200.0, 10.5);
    assert!(lines.len() > 10, "{} lines", lines.len());
    for line in &lines {
        assert!(font.width(line, 10.5) <= 200.0, "{line:?} too wide");
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let wrapped: Vec<&str> = lines.iter().flat_map(|l| l.split(' ')).collect();
    assert_eq!(words, wrapped);
}

#[test]
fn long_words_break_between_characters_and_newlines_break_lines() {
    let mut font = Font::load().expect("font");
    let word = "ө".repeat(500);
    let lines = wrap(&mut font, &word, 100.0, 10.0);
    assert!(lines.len() > 5);
    assert!(lines.iter().all(|l| font.width(l, 10.0) <= 100.0));
    assert_eq!(lines.concat(), word);
    assert_eq!(
        wrap(&mut font, "бір\nекі\r\n\tүш", 300.0, 10.0),
        ["бір", "екі", "үш"]
    );
    assert_eq!(wrap(&mut font, "", 300.0, 10.0), [""]);
}

#[test]
fn long_values_wrap_in_the_page() {
    let long = "Деятельность в сфере оказания услуг ".repeat(40);
    let short = render(&doc(&[("Вид деятельности", "услуги")])).expect("render");
    let pdf = render(&doc(&[("Вид деятельности", &long)])).expect("render");
    let lines = count(&pdf, b" Tj ET") - count(&short, b" Tj ET");
    assert!(lines >= 20, "{lines} more lines");
    assert_eq!(count(&pdf, b"/Type /Page "), 1);
}

#[test]
fn many_fields_paginate() {
    let fields: Vec<(&str, &str)> = (0..150)
        .map(|_| ("Өріс атауы / Поле", "Мәні / Значение поля"))
        .collect();
    let pdf = render(&doc(&fields)).expect("render");
    let pages = count(&pdf, b"/Type /Page ");
    assert!(pages >= 3, "{pages} pages");
    assert!(find(&pdf, format!("/Count {pages} ").as_bytes()).is_some());
    for (num, offset) in xref(&pdf) {
        assert!(pdf[offset..].starts_with(format!("{num} 0 obj\n").as_bytes()));
    }
}

#[test]
fn a_huge_value_spans_pages() {
    let huge = "x".repeat(100_000);
    let pdf = render(&doc(&[("", &huge)])).expect("render");
    assert!(count(&pdf, b"/Type /Page ") > 5);
}

#[test]
fn empty_text_renders_and_empty_or_oversized_url_is_an_error() {
    let empty = PdfDocument {
        title: "",
        number: "",
        date: "",
        fields: &[("", ""), ("\0\u{7}", "\u{200B}")],
        footer: "",
        verification_url: "x",
    };
    let pdf = render(&empty).expect("render");
    assert!(pdf.ends_with(b"%%EOF\n"));
    let no_url = PdfDocument {
        verification_url: "",
        ..empty
    };
    assert!(matches!(render(&no_url), Err(PdfError::Qr(_))));
    let long = "u".repeat(5000);
    let too_long = PdfDocument {
        verification_url: &long,
        ..empty
    };
    assert!(matches!(render(&too_long), Err(PdfError::Qr(_))));
}

#[test]
fn the_largest_qr_code_and_long_footer_still_render() {
    let url = "7".repeat(3000);
    let footer = "Документ подписан ЭЦП. ".repeat(200);
    let big = PdfDocument {
        footer: &footer,
        verification_url: &url,
        ..doc(&[])
    };
    let pdf = render(&big).expect("render");
    assert!(count(&pdf, b"/Type /Page ") >= 2);
}

#[test]
fn output_is_deterministic() {
    let fields = [("Атауы", "Мәні")];
    assert_eq!(
        render(&doc(&fields)).expect("render"),
        render(&doc(&fields)).expect("render")
    );
}

#[test]
fn odd_text_never_panics() {
    let long = "ӘӘ".repeat(3000);
    let odd = [
        "а\u{301}\u{301}",
        "\u{FEFF}BOM",
        "שלום عربي",
        "\r\r\r",
        "\t \n \n",
        "\u{FFFF}\u{E000}\u{10FFFF}",
        "a\0b\u{7F}",
        "(\\) <> % [ ] { } / #",
        long.as_str(),
    ];
    for text in odd {
        let fields = [(text, text), (text, "")];
        let url: String = format!("https://example.kz/{text}")
            .chars()
            .take(200)
            .collect();
        let doc = PdfDocument {
            title: text,
            number: text,
            date: text,
            fields: &fields,
            footer: text,
            verification_url: &url,
        };
        let pdf = render(&doc).expect("render");
        for (num, offset) in xref(&pdf) {
            assert!(pdf[offset..].starts_with(format!("{num} 0 obj\n").as_bytes()));
        }
    }
}

#[test]
fn running_out_of_cids_falls_back_to_notdef() {
    let mut font = Font::load().expect("font");
    let text: String = (0x1_0000..0x1_0000 + 70_000)
        .filter_map(char::from_u32)
        .collect();
    let hex = font.encode(&text);
    assert!(hex.starts_with("<00010002"));
    assert!(hex.ends_with("00000000>"));
    assert_eq!(font.cid_to_gid_map().len(), 2 * 65_536);
    let cmap = String::from_utf8(font.to_unicode()).expect("ASCII CMap");
    assert!(cmap.contains("<FFFF> <D83F"));
}
