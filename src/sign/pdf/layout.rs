//! Page layout: lines of text and the QR code placed top to bottom on A4 pages, with a new page
//! whenever the current one is full.

use std::fmt::Write as _;

use super::font::Font;
use super::PdfDocument;

/// A4 in points.
pub(super) const PAGE_WIDTH: f32 = 595.28;
pub(super) const PAGE_HEIGHT: f32 = 841.89;
/// 20 mm.
const MARGIN: f32 = 56.69;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const TOP: f32 = PAGE_HEIGHT - MARGIN;
/// Content stops here; the page footer (number, page count) sits below.
const BOTTOM: f32 = 64.0;
const PAGE_FOOTER_BASELINE: f32 = 34.0;

const TITLE_SIZE: f32 = 15.0;
const HEADER_SIZE: f32 = 10.5;
const LABEL_SIZE: f32 = 9.0;
const VALUE_SIZE: f32 = 10.5;
const FOOTER_SIZE: f32 = 9.0;
const URL_SIZE: f32 = 8.0;
const PAGE_FOOTER_SIZE: f32 = 8.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.35;

const LABEL_WIDTH: f32 = 0.36 * CONTENT_WIDTH;
const COLUMN_GAP: f32 = 12.0;
const VALUE_X: f32 = MARGIN + LABEL_WIDTH + COLUMN_GAP;
const VALUE_WIDTH: f32 = CONTENT_WIDTH - LABEL_WIDTH - COLUMN_GAP;
const ROW_PADDING: f32 = 4.0;

/// The QR code's preferred side (40 mm) and the smallest module it may use.
const QR_SIDE: f32 = 113.0;
const QR_MIN_MODULE: f32 = 1.5;

/// Gray levels (0 black, 1 white).
const LABEL_GRAY: f32 = 0.35;
const RULE_GRAY: f32 = 0.75;

/// A QR code as a square matrix of modules, dark = true, row by row from the top.
pub(super) struct QrMatrix {
    pub width: usize,
    pub dark: Vec<bool>,
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Regular,
    Bold,
}

/// The pages being filled: finished content streams and the current one.
struct Pages<'a, 'f> {
    font: &'a mut Font<'f>,
    done: Vec<String>,
    ops: String,
    /// The top of the next line.
    y: f32,
}

impl Pages<'_, '_> {
    /// Starts a new page unless `height` still fits on this one (or this one is empty).
    fn ensure(&mut self, height: f32) {
        if self.y - height < BOTTOM && self.y < TOP {
            self.done.push(std::mem::take(&mut self.ops));
            self.y = TOP;
        }
    }

    /// Draws one line of text with its baseline at `baseline`.
    fn text(&mut self, x: f32, baseline: f32, size: f32, gray: f32, style: Style, text: &str) {
        if text.is_empty() {
            return;
        }
        let hex = self.font.encode(text);
        // q/Q: the colour, line width and text rendering mode do not leak to what follows.
        let _ = writeln!(self.ops, "q {gray:.2} g");
        if style == Style::Bold {
            // Synthetic bold: fill and stroke the outlines (one font embedded, not two).
            let _ = writeln!(self.ops, "{gray:.2} G {:.2} w 2 Tr", size * 0.04);
        }
        let _ = writeln!(
            self.ops,
            "BT /F1 {size:.1} Tf {x:.2} {baseline:.2} Td {hex} Tj ET Q"
        );
    }

    /// Draws lines of text, each on its own line, starting a new page where needed.
    fn lines(&mut self, x: f32, size: f32, gray: f32, style: Style, lines: &[String]) {
        let height = size * LEADING;
        for line in lines {
            self.ensure(height);
            let baseline = self.y - size;
            self.text(x, baseline, size, gray, style, line);
            self.y -= height;
        }
    }

    /// A horizontal rule across the content width at the current position.
    fn rule(&mut self, gray: f32) {
        let y = self.y;
        let _ = writeln!(
            self.ops,
            "q {gray:.2} G 0.5 w {MARGIN:.2} {y:.2} m {:.2} {y:.2} l S Q",
            MARGIN + CONTENT_WIDTH
        );
    }

    /// Draws the QR code's dark modules with the top left corner at (x, top): one rectangle per
    /// horizontal run of dark modules.
    fn qr(&mut self, qr: &QrMatrix, x: f32, top: f32, module: f32) {
        self.ops.push_str("q 0 g\n");
        for (row, cells) in qr.dark.chunks(qr.width.max(1)).enumerate() {
            let y = top - (row + 1) as f32 * module;
            let mut col = 0;
            while col < cells.len() {
                if !cells[col] {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < cells.len() && cells[col] {
                    col += 1;
                }
                let _ = writeln!(
                    self.ops,
                    "{:.3} {y:.3} {:.3} {module:.3} re",
                    x + start as f32 * module,
                    (col - start) as f32 * module
                );
            }
        }
        self.ops.push_str("f Q\n");
    }
}

/// Lays the document out; returns one content stream per page.
pub(super) fn layout(doc: &PdfDocument<'_>, qr: &QrMatrix, font: &mut Font<'_>) -> Vec<String> {
    let mut pages = Pages {
        font,
        done: Vec::new(),
        ops: String::new(),
        y: TOP,
    };

    // Title, centred, in bold.
    let title = wrap(pages.font, doc.title, CONTENT_WIDTH, TITLE_SIZE);
    for line in &title {
        let x = MARGIN + (CONTENT_WIDTH - pages.font.width(line, TITLE_SIZE)) / 2.0;
        pages.lines(x, TITLE_SIZE, 0.0, Style::Bold, std::slice::from_ref(line));
    }
    pages.y -= 6.0;

    header(&mut pages, doc);
    pages.y -= 4.0;
    pages.rule(0.0);

    // Fields: label on the left, value on the right, both wrapped.
    let line_height = VALUE_SIZE * LEADING;
    for (label, value) in doc.fields {
        let labels = wrap(pages.font, label, LABEL_WIDTH, LABEL_SIZE);
        let values = wrap(pages.font, value, VALUE_WIDTH, VALUE_SIZE);
        let lines = labels.len().max(values.len());
        let row = 2.0 * ROW_PADDING + lines as f32 * line_height;
        // A row that fits on a page is kept on one; a longer one continues on the next.
        let keep = if row <= TOP - BOTTOM {
            row
        } else {
            ROW_PADDING + line_height
        };
        pages.ensure(keep);
        pages.y -= ROW_PADDING;
        for i in 0..lines {
            pages.ensure(line_height);
            let baseline = pages.y - VALUE_SIZE;
            if let Some(label) = labels.get(i) {
                pages.text(
                    MARGIN,
                    baseline,
                    LABEL_SIZE,
                    LABEL_GRAY,
                    Style::Regular,
                    label,
                );
            }
            if let Some(value) = values.get(i) {
                pages.text(VALUE_X, baseline, VALUE_SIZE, 0.0, Style::Regular, value);
            }
            pages.y -= line_height;
        }
        pages.y -= ROW_PADDING;
        pages.rule(RULE_GRAY);
    }

    verification(&mut pages, doc, qr);

    let Pages { mut done, ops, .. } = pages;
    done.push(ops);
    page_footers(font, doc, &mut done);
    done
}

/// The registration number on the left and the date on the right, or on two lines if they do
/// not fit on one.
fn header(pages: &mut Pages<'_, '_>, doc: &PdfDocument<'_>) {
    let number = if doc.number.trim().is_empty() {
        String::new()
    } else {
        format!("№ {}", doc.number.trim())
    };
    let date = doc.date.trim();
    let number_width = pages.font.width(&number, HEADER_SIZE);
    let date_width = pages.font.width(date, HEADER_SIZE);
    let height = HEADER_SIZE * LEADING;
    if number_width + date_width + 24.0 <= CONTENT_WIDTH {
        if number.is_empty() && date.is_empty() {
            return;
        }
        pages.ensure(height);
        let baseline = pages.y - HEADER_SIZE;
        pages.text(MARGIN, baseline, HEADER_SIZE, 0.0, Style::Regular, &number);
        let x = MARGIN + CONTENT_WIDTH - date_width;
        pages.text(x, baseline, HEADER_SIZE, 0.0, Style::Regular, date);
        pages.y -= height;
    } else {
        for text in [number.as_str(), date] {
            if !text.is_empty() {
                let lines = wrap(pages.font, text, CONTENT_WIDTH, HEADER_SIZE);
                pages.lines(MARGIN, HEADER_SIZE, 0.0, Style::Regular, &lines);
            }
        }
    }
}

/// The QR code with the footer text beside it and the verification URL under it, kept on one
/// page when they fit on one.
fn verification(pages: &mut Pages<'_, '_>, doc: &PdfDocument<'_>, qr: &QrMatrix) {
    let module = (QR_SIDE / (qr.width + 8) as f32).max(QR_MIN_MODULE);
    let quiet = 4.0 * module;
    let side = qr.width as f32 * module;
    let text_x = MARGIN + side + quiet.max(14.0);
    let text_width = MARGIN + CONTENT_WIDTH - text_x;
    let footer = wrap(pages.font, doc.footer, text_width, FOOTER_SIZE);
    let footer_height = footer.len() as f32 * FOOTER_SIZE * LEADING;
    let url = wrap(pages.font, doc.verification_url, CONTENT_WIDTH, URL_SIZE);
    let url_height = url.len() as f32 * URL_SIZE * LEADING;
    let block = quiet + side.max(footer_height) + 6.0 + url_height;

    pages.y -= 8.0;
    if block <= TOP - BOTTOM {
        pages.ensure(block);
        let top = pages.y - quiet;
        pages.qr(qr, MARGIN, top, module);
        let below = pages.y;
        pages.y = top;
        pages.lines(text_x, FOOTER_SIZE, 0.0, Style::Regular, &footer);
        pages.y = below - block + url_height;
        pages.lines(MARGIN, URL_SIZE, LABEL_GRAY, Style::Regular, &url);
    } else {
        // Too much text to keep together: the QR code, then the text below it, page by page.
        pages.ensure(quiet + side + 6.0);
        let top = pages.y - quiet;
        pages.qr(qr, MARGIN, top, module);
        pages.y = top - side - 6.0;
        pages.lines(MARGIN, URL_SIZE, LABEL_GRAY, Style::Regular, &url);
        pages.y -= 6.0;
        let footer = wrap(pages.font, doc.footer, CONTENT_WIDTH, FOOTER_SIZE);
        pages.lines(MARGIN, FOOTER_SIZE, 0.0, Style::Regular, &footer);
    }
}

/// Appends the registration number and "page / pages" to the bottom of every page.
fn page_footers(font: &mut Font<'_>, doc: &PdfDocument<'_>, pages: &mut [String]) {
    let count = pages.len();
    let number = wrap(
        font,
        doc.number.trim(),
        CONTENT_WIDTH * 0.7,
        PAGE_FOOTER_SIZE,
    );
    let number = number.first().map_or("", String::as_str);
    for (i, ops) in pages.iter_mut().enumerate() {
        let mut page = Pages {
            font,
            done: Vec::new(),
            ops: std::mem::take(ops),
            y: TOP,
        };
        let y = PAGE_FOOTER_BASELINE;
        let gray = LABEL_GRAY;
        page.text(MARGIN, y, PAGE_FOOTER_SIZE, gray, Style::Regular, number);
        let of = format!("{} / {count}", i + 1);
        let x = MARGIN + CONTENT_WIDTH - page.font.width(&of, PAGE_FOOTER_SIZE);
        page.text(x, y, PAGE_FOOTER_SIZE, gray, Style::Regular, &of);
        *ops = page.ops;
    }
}

/// Splits `text` into lines no wider than `width` at `size` points: at line breaks, between
/// words, and inside a word that is wider than a line. Runs of white space and control
/// characters become one space. Always returns at least one (possibly empty) line.
pub(super) fn wrap(font: &mut Font<'_>, text: &str, width: f32, size: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let space = font.char_width(' ', size);
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0;
        let words = paragraph.split(|c: char| c.is_whitespace() || c.is_control());
        for word in words.filter(|w| !w.is_empty()) {
            let word_width = font.width(word, size);
            if line.is_empty() && word_width <= width {
                line.push_str(word);
                line_width = word_width;
                continue;
            }
            if !line.is_empty() && line_width + space + word_width <= width {
                line.push(' ');
                line.push_str(word);
                line_width += space + word_width;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            if word_width <= width {
                line.push_str(word);
                line_width = word_width;
                continue;
            }
            // A word wider than the line: break it between characters.
            for ch in word.chars() {
                let ch_width = font.char_width(ch, size);
                if !line.is_empty() && line_width + ch_width > width {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(ch);
                line_width += ch_width;
            }
        }
        lines.push(line);
    }
    lines
}
