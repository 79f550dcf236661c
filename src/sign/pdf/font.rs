//! The embedded font: DejaVu Sans, written as a Type0 font over a CIDFontType2 with Identity-H
//! encoding.
//!
//! CIDs are our own: every distinct character the document draws gets the next CID (1, 2, …),
//! and a CIDToGIDMap stream maps it to the font's glyph. So the ToUnicode CMap maps each CID to
//! exactly one character, even for characters the font lacks (drawn as .notdef, glyph 0, yet
//! still extractable as text) and for characters that share a glyph. CID 0 is .notdef itself,
//! used only if a document ever draws more than 65 535 distinct characters.

use std::collections::HashMap;
use std::fmt::Write as _;

use ttf_parser::{Face, GlyphId};

use super::PdfError;

/// The PostScript name of the embedded font.
pub(super) const FONT_NAME: &str = "DejaVuSans";

/// DejaVu Sans (Bitstream Vera licence: assets/fonts/LICENSE-DejaVu.txt), embedded whole.
pub(super) static FONT_DATA: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// A character as encoded in the content stream: its CID and its advance in 1/1000 em.
#[derive(Debug, Clone, Copy)]
struct Glyph {
    cid: u16,
    width: u16,
}

/// One drawn character: the character, its glyph id in the font, its advance in 1/1000 em.
#[derive(Debug, Clone, Copy)]
struct Used {
    ch: char,
    gid: u16,
    width: u16,
}

/// The font with the encoding built while the document is laid out.
pub(super) struct Font<'f> {
    face: Face<'f>,
    units_per_em: f32,
    glyphs: HashMap<char, Glyph>,
    /// Index i holds CID i + 1.
    used: Vec<Used>,
    notdef_width: u16,
}

impl Font<'static> {
    /// Parses the embedded font.
    pub(super) fn load() -> Result<Self, PdfError> {
        Font::parse(FONT_DATA)
    }
}

impl<'f> Font<'f> {
    pub(super) fn parse(data: &'f [u8]) -> Result<Self, PdfError> {
        let face = Face::parse(data, 0).map_err(|e| PdfError::Font(e.to_string()))?;
        let units_per_em = f32::from(face.units_per_em());
        if units_per_em < 16.0 {
            return Err(PdfError::Font(format!(
                "unitsPerEm {units_per_em} out of range"
            )));
        }
        let mut font = Font {
            face,
            units_per_em,
            glyphs: HashMap::new(),
            used: Vec::new(),
            notdef_width: 0,
        };
        font.notdef_width = font.advance(GlyphId(0));
        Ok(font)
    }

    /// A glyph's advance in 1/1000 em.
    fn advance(&self, gid: GlyphId) -> u16 {
        let units = f32::from(self.face.glyph_hor_advance(gid).unwrap_or(0));
        self.scale(units).clamp(0.0, f32::from(u16::MAX)) as u16
    }

    /// Font units to 1/1000 em, rounded.
    fn scale(&self, units: f32) -> f32 {
        (units * 1000.0 / self.units_per_em).round()
    }

    /// The character's CID and width, assigning a CID on first use.
    fn glyph(&mut self, ch: char) -> Glyph {
        if let Some(glyph) = self.glyphs.get(&ch) {
            return *glyph;
        }
        let gid = self.face.glyph_index(ch).unwrap_or(GlyphId(0));
        let width = self.advance(gid);
        let glyph = match u16::try_from(self.used.len() + 1) {
            Ok(cid) => {
                self.used.push(Used {
                    ch,
                    gid: gid.0,
                    width,
                });
                Glyph { cid, width }
            }
            // Out of CIDs: .notdef, not extractable.
            Err(_) => Glyph {
                cid: 0,
                width: self.notdef_width,
            },
        };
        self.glyphs.insert(ch, glyph);
        glyph
    }

    /// The width of `text` set at `size` points.
    pub(super) fn width(&mut self, text: &str, size: f32) -> f32 {
        let units: u64 = text.chars().map(|c| u64::from(self.glyph(c).width)).sum();
        units as f32 * size / 1000.0
    }

    /// The width of one character set at `size` points.
    pub(super) fn char_width(&mut self, ch: char, size: f32) -> f32 {
        f32::from(self.glyph(ch).width) * size / 1000.0
    }

    /// `text` as a PDF hex string of 2-byte CIDs, for `Tj`.
    pub(super) fn encode(&mut self, text: &str) -> String {
        let mut hex = String::with_capacity(2 + 4 * text.len());
        hex.push('<');
        for ch in text.chars() {
            let cid = self.glyph(ch).cid;
            let _ = write!(hex, "{cid:04X}");
        }
        hex.push('>');
        hex
    }

    /// The CIDFontType2 dictionary.
    pub(super) fn cid_font_dict(&self, descriptor: usize, cid_to_gid: usize) -> String {
        let mut widths = String::new();
        for (i, used) in self.used.iter().enumerate() {
            if i > 0 {
                widths.push(if i % 16 == 0 { '\n' } else { ' ' });
            }
            let _ = write!(widths, "{}", used.width);
        }
        let w = if self.used.is_empty() {
            "[]".to_owned()
        } else {
            format!("[1 [{widths}]]")
        };
        format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{FONT_NAME}\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>\n\
             /FontDescriptor {descriptor} 0 R /CIDToGIDMap {cid_to_gid} 0 R\n\
             /DW {dw}\n/W {w} >>",
            dw = self.notdef_width
        )
    }

    /// The FontDescriptor dictionary.
    pub(super) fn descriptor_dict(&self, font_file: usize) -> String {
        let bbox = self.face.global_bounding_box();
        let s = |v: i16| self.scale(f32::from(v));
        let ascent = s(self.face.ascender());
        let descent = s(self.face.descender());
        let cap_height = self.face.capital_height().map_or(ascent, s);
        format!(
            "<< /Type /FontDescriptor /FontName /{FONT_NAME} /Flags 32\n\
             /FontBBox [{} {} {} {}] /ItalicAngle {}\n\
             /Ascent {ascent} /Descent {descent} /CapHeight {cap_height} /StemV 80\n\
             /FontFile2 {font_file} 0 R >>",
            s(bbox.x_min),
            s(bbox.y_min),
            s(bbox.x_max),
            s(bbox.y_max),
            self.face.italic_angle().round(),
        )
    }

    /// The CIDToGIDMap stream: two bytes (big-endian glyph id) per CID from 0.
    pub(super) fn cid_to_gid_map(&self) -> Vec<u8> {
        let mut map = Vec::with_capacity(2 * (self.used.len() + 1));
        map.extend_from_slice(&[0, 0]);
        for used in &self.used {
            map.extend_from_slice(&used.gid.to_be_bytes());
        }
        map
    }

    /// The ToUnicode CMap stream.
    pub(super) fn to_unicode(&self) -> Vec<u8> {
        let mut cmap = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        for (block, chunk) in self.used.chunks(100).enumerate() {
            let _ = writeln!(cmap, "{} beginbfchar", chunk.len());
            for (i, used) in chunk.iter().enumerate() {
                let cid = block * 100 + i + 1;
                let _ = write!(cmap, "<{cid:04X}> <");
                let mut utf16 = [0u16; 2];
                for unit in used.ch.encode_utf16(&mut utf16) {
                    let _ = write!(cmap, "{unit:04X}");
                }
                cmap.push_str(">\n");
            }
            cmap.push_str("endbfchar\n");
        }
        cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        cmap.into_bytes()
    }
}
