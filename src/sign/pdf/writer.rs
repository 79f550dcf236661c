//! PDF file syntax: the header, numbered indirect objects, the cross-reference table, the trailer.

/// Builds a PDF file object by object, recording where each one starts.
pub(super) struct Writer {
    buf: Vec<u8>,
    /// Byte offset of object n at index n; index 0 is the free-list head.
    offsets: Vec<Option<usize>>,
}

impl Writer {
    /// Starts a PDF 1.7 file. The comment of high bytes marks the file as binary.
    pub(super) fn new() -> Self {
        let mut buf = Vec::with_capacity(1 << 20);
        buf.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
        Writer {
            buf,
            offsets: vec![None],
        }
    }

    /// Reserves the next object number.
    pub(super) fn alloc(&mut self) -> usize {
        self.offsets.push(None);
        self.offsets.len() - 1
    }

    fn begin(&mut self, num: usize) {
        if let Some(slot) = self.offsets.get_mut(num) {
            *slot = Some(self.buf.len());
        }
        self.buf
            .extend_from_slice(format!("{num} 0 obj\n").as_bytes());
    }

    /// Writes object `num` (from [`Writer::alloc`]) holding `body`.
    pub(super) fn object(&mut self, num: usize, body: &str) {
        self.begin(num);
        self.buf.extend_from_slice(body.as_bytes());
        self.buf.extend_from_slice(b"\nendobj\n");
    }

    /// Writes stream object `num`; `entries` are extra dictionary entries besides /Length.
    pub(super) fn stream(&mut self, num: usize, entries: &str, data: &[u8]) {
        self.begin(num);
        let sep = if entries.is_empty() { "" } else { " " };
        self.buf.extend_from_slice(
            format!("<< /Length {}{sep}{entries} >>\nstream\n", data.len()).as_bytes(),
        );
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\nendstream\nendobj\n");
    }

    /// Writes the cross-reference table and the trailer; returns the file.
    pub(super) fn finish(mut self, root: usize, info: usize) -> Vec<u8> {
        let xref = self.buf.len();
        let mut table = format!("xref\n0 {}\n", self.offsets.len());
        for (num, offset) in self.offsets.iter().enumerate() {
            match offset {
                // Each entry is exactly 20 bytes: 10-digit offset, 5-digit generation, type, " \n".
                Some(offset) if num > 0 => table.push_str(&format!("{offset:010} 00000 n \n")),
                _ => table.push_str("0000000000 65535 f \n"),
            }
        }
        table.push_str(&format!(
            "trailer\n<< /Size {} /Root {root} 0 R /Info {info} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            self.offsets.len()
        ));
        self.buf.extend_from_slice(table.as_bytes());
        self.buf
    }
}

/// A text string for the document information dictionary: UTF-16BE with a byte-order mark, as a
/// hex string.
pub(super) fn text_string(text: &str) -> String {
    let mut hex = String::from("<FEFF");
    for unit in text.encode_utf16() {
        hex.push_str(&format!("{unit:04X}"));
    }
    hex.push('>');
    hex
}
