//! A signed licensing document as PDF ("save as Adobe Acrobat" in the регламент): an A4 page (or
//! more) with the title, the registration number and date, the labelled fields, the signature
//! footer and a QR code that opens the document's verification page.
//!
//! The PDF is written here directly (PDF 1.7, uncompressed streams). Text is set in DejaVu Sans,
//! embedded whole as a Type0 / CIDFontType2 font (FontFile2) with Identity-H encoding, glyph
//! widths in /W and a ToUnicode CMap, so Cyrillic and the Kazakh letters (ә ғ қ ң ө ұ ү һ і)
//! display and extract as text. The QR code is drawn as filled rectangles. The output depends
//! only on the input: no dates or random ids are written, so equal documents give equal bytes.

mod font;
mod layout;
mod writer;

#[cfg(test)]
mod tests;

use font::{Font, FONT_DATA, FONT_NAME};
use layout::{QrMatrix, PAGE_HEIGHT, PAGE_WIDTH};
use writer::{text_string, Writer};

/// What the PDF shows.
#[derive(Debug, Clone, Copy)]
pub struct PdfDocument<'a> {
    /// E.g. "ЛИЦЕНЗИЯ / ЛИЦЕНЗИЯ" (ru / kk); wrapped and centred.
    pub title: &'a str,
    /// The registration number, e.g. "KZ-19850-2026-000017"; also at the foot of every page.
    pub number: &'a str,
    /// E.g. "2026-11-23".
    pub date: &'a str,
    /// (label, value) pairs in order; both are wrapped, and `\n` starts a new line.
    pub fields: &'a [(&'a str, &'a str)],
    /// The signature note beside the QR code.
    pub footer: &'a str,
    /// Encoded in the QR code and printed under it.
    pub verification_url: &'a str,
}

/// Why no PDF could be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The embedded font could not be read.
    #[error("PDF font: {0}")]
    Font(String),
    /// The verification URL cannot be a QR code (empty, or too long for one).
    #[error("PDF QR code: {0}")]
    Qr(String),
}

/// Renders `doc` as a PDF file.
///
/// Fails only when the verification URL is empty or too long for a QR code (over about 2 300
/// bytes); any text renders, characters missing from the font as the font's .notdef box (still
/// extractable as text).
pub fn render(doc: &PdfDocument<'_>) -> Result<Vec<u8>, PdfError> {
    let qr = qr_matrix(doc.verification_url)?;
    let mut font = Font::load()?;
    let pages = layout::layout(doc, &qr, &mut font);
    Ok(write(doc, &pages, &font))
}

/// The QR code for `url`, error correction level M (15 %).
fn qr_matrix(url: &str) -> Result<QrMatrix, PdfError> {
    if url.trim().is_empty() {
        return Err(PdfError::Qr("the verification URL is empty".to_owned()));
    }
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| PdfError::Qr(format!("{e} ({} bytes)", url.len())))?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Ok(QrMatrix {
        width: code.width(),
        dark,
    })
}

/// Serialises the laid-out pages and the font.
fn write(doc: &PdfDocument<'_>, pages: &[String], font: &Font<'_>) -> Vec<u8> {
    let mut w = Writer::new();
    let catalog = w.alloc();
    let page_tree = w.alloc();
    let type0 = w.alloc();
    let cid_font = w.alloc();
    let descriptor = w.alloc();
    let font_file = w.alloc();
    let to_unicode = w.alloc();
    let cid_to_gid = w.alloc();
    let info = w.alloc();
    let page_objects: Vec<(usize, usize)> = pages.iter().map(|_| (w.alloc(), w.alloc())).collect();

    w.object(
        catalog,
        &format!(
            "<< /Type /Catalog /Pages {page_tree} 0 R \
             /ViewerPreferences << /DisplayDocTitle true >> >>"
        ),
    );
    let kids: Vec<String> = page_objects
        .iter()
        .map(|(page, _)| format!("{page} 0 R"))
        .collect();
    w.object(
        page_tree,
        &format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            page_objects.len()
        ),
    );
    for ((page, contents), ops) in page_objects.iter().zip(pages) {
        w.object(
            *page,
            &format!(
                "<< /Type /Page /Parent {page_tree} 0 R \
                 /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}]\n\
                 /Resources << /Font << /F1 {type0} 0 R >> >> /Contents {contents} 0 R >>"
            ),
        );
        w.stream(*contents, "", ops.as_bytes());
    }

    w.object(
        type0,
        &format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /{FONT_NAME} /Encoding /Identity-H\n\
             /DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
        ),
    );
    w.object(cid_font, &font.cid_font_dict(descriptor, cid_to_gid));
    w.object(descriptor, &font.descriptor_dict(font_file));
    w.stream(to_unicode, "", &font.to_unicode());
    w.stream(cid_to_gid, "", &font.cid_to_gid_map());
    w.stream(
        font_file,
        &format!("/Filter /FlateDecode /Length1 {}", FONT_DATA.len()),
        compressed_font(),
    );

    let mut info_dict = String::from("<< /Producer (qoltanba)");
    if !doc.title.is_empty() {
        info_dict.push_str(&format!(" /Title {}", text_string(doc.title)));
    }
    if !doc.number.is_empty() {
        info_dict.push_str(&format!(" /Subject {}", text_string(doc.number)));
    }
    info_dict.push_str(" >>");
    w.object(info, &info_dict);

    w.finish(catalog, info)
}

/// The embedded font, zlib-compressed once per process: it is most of every PDF's size
/// (760 KB raw), and the same for every document.
fn compressed_font() -> &'static [u8] {
    static COMPRESSED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    COMPRESSED.get_or_init(|| miniz_oxide::deflate::compress_to_vec_zlib(FONT_DATA, 6))
}
