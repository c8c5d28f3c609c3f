//! Attachments, decided from their own bytes: what a file is (magic numbers, never the
//! client's claim), what its name may show, how a download describes it, and which part of it
//! a `Range` asks for.

/// How many leading bytes decide a file's type. Zip directories of office files and OFD name
/// their parts in the first entries, well inside this.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// The default display name when nothing printable is left of the one sent.
pub const DEFAULT_FILENAME: &str = "attachment";

/// Longest display name, in UTF-8 bytes (what file systems and mail clients allow).
pub const MAX_FILENAME_BYTES: usize = 255;

/// The file types the contract allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Jpeg,
    Png,
    Webp,
    Gif,
    Heic,
    Pdf,
    Ofd,
    Doc,
    Docx,
    Xls,
    Xlsx,
    Ppt,
    Pptx,
    Text,
    Csv,
}

impl FileKind {
    pub const ALL: [FileKind; 15] = [
        FileKind::Jpeg,
        FileKind::Png,
        FileKind::Webp,
        FileKind::Gif,
        FileKind::Heic,
        FileKind::Pdf,
        FileKind::Ofd,
        FileKind::Doc,
        FileKind::Docx,
        FileKind::Xls,
        FileKind::Xlsx,
        FileKind::Ppt,
        FileKind::Pptx,
        FileKind::Text,
        FileKind::Csv,
    ];

    /// The `Content-Type` it is stored and served with.
    pub const fn content_type(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Webp => "image/webp",
            FileKind::Gif => "image/gif",
            FileKind::Heic => "image/heic",
            FileKind::Pdf => "application/pdf",
            FileKind::Ofd => "application/ofd",
            FileKind::Doc => "application/msword",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xls => "application/vnd.ms-excel",
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Ppt => "application/vnd.ms-powerpoint",
            FileKind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileKind::Text => "text/plain; charset=utf-8",
            FileKind::Csv => "text/csv; charset=utf-8",
        }
    }

    pub const fn is_image(self) -> bool {
        matches!(
            self,
            FileKind::Jpeg | FileKind::Png | FileKind::Webp | FileKind::Gif | FileKind::Heic
        )
    }

    /// Browsers show images and PDF in place; everything else is saved.
    pub const fn inline(self) -> bool {
        self.is_image() || matches!(self, FileKind::Pdf)
    }

    /// Text must stay valid to its last byte, so it is checked while the rest streams in.
    pub const fn is_text(self) -> bool {
        matches!(self, FileKind::Text | FileKind::Csv)
    }
}

/// Whether a stored `Content-Type` is shown in place (`inline`) or saved (`attachment`).
pub fn inline_content_type(content_type: &str) -> bool {
    FileKind::ALL
        .iter()
        .any(|k| k.inline() && k.content_type() == content_type)
}

fn extension(filename: &str) -> Option<String> {
    filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
}

/// The type of a file from its first bytes (`head`, at most [`SNIFF_BYTES`]; the whole file
/// when shorter). `filename` only chooses between types the bytes cannot tell apart (text or
/// CSV; an old Office file whose directory lies past the head); it never makes a file
/// acceptable. `None` is anything not on the list: executables, archives, HTML, …
pub fn sniff(head: &[u8], filename: &str) -> Option<FileKind> {
    let ext = extension(filename);
    let ext = ext.as_deref();
    if head.starts_with(b"PK\x03\x04") {
        return zip_kind(head);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return ole_kind(head, ext);
    }
    if let Some(kind) = infer::get(head) {
        return match kind.mime_type() {
            "image/jpeg" => Some(FileKind::Jpeg),
            "image/png" => Some(FileKind::Png),
            "image/webp" => Some(FileKind::Webp),
            "image/gif" => Some(FileKind::Gif),
            "image/heif" if heic_brand(head) => Some(FileKind::Heic),
            "application/pdf" => Some(FileKind::Pdf),
            _ => None,
        };
    }
    let mut text = TextCheck::default();
    if text.feed(head) && text.finish_head(head.len() < SNIFF_BYTES) && !head.starts_with(b"#!") {
        return Some(if ext == Some("csv") {
            FileKind::Csv
        } else {
            FileKind::Text
        });
    }
    None
}

/// HEIC proper (HEVC-coded), not every HEIF container: `ftyp` with a heic-family brand.
fn heic_brand(head: &[u8]) -> bool {
    head.len() >= 12
        && &head[4..8] == b"ftyp"
        && matches!(
            &head[8..12],
            b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1"
        )
}

/// The names of the zip entries whose local headers lie in `head`.
fn zip_entry_names(head: &[u8]) -> Vec<&[u8]> {
    let mut names = Vec::new();
    let mut at = 0;
    while let Some(found) = head[at..].windows(4).position(|w| w == b"PK\x03\x04") {
        let start = at + found;
        if start + 30 > head.len() {
            break;
        }
        let len = usize::from(u16::from_le_bytes([head[start + 26], head[start + 27]]));
        let end = (start + 30 + len).min(head.len());
        names.push(&head[start + 30..end]);
        at = start + 4;
    }
    names
}

/// Office Open XML and OFD are zip files told apart by the parts they hold: OFD by its
/// `OFD.xml` entry point (GB/T 33190), OOXML by `[Content_Types].xml` and the folder of
/// its main part. Any other zip is refused.
fn zip_kind(head: &[u8]) -> Option<FileKind> {
    let names = zip_entry_names(head);
    if names.iter().any(|n| n.eq_ignore_ascii_case(b"OFD.xml")) {
        return Some(FileKind::Ofd);
    }
    if !names.iter().any(|n| *n == b"[Content_Types].xml") {
        return None;
    }
    names.iter().find_map(|n| {
        if n.starts_with(b"word/") {
            Some(FileKind::Docx)
        } else if n.starts_with(b"xl/") {
            Some(FileKind::Xlsx)
        } else if n.starts_with(b"ppt/") {
            Some(FileKind::Pptx)
        } else {
            None
        }
    })
}

/// Old Office files are OLE compound files; the root entry's class id says which program
/// wrote it. When the directory is past the head, the extension decides among the three (the
/// bytes already showed it is a compound file); other compound files (MSI installers) are
/// refused when their class id is readable.
fn ole_kind(head: &[u8], ext: Option<&str>) -> Option<FileKind> {
    if infer::doc::is_doc(head) {
        return Some(FileKind::Doc);
    }
    if infer::doc::is_xls(head) {
        return Some(FileKind::Xls);
    }
    if infer::doc::is_ppt(head) {
        return Some(FileKind::Ppt);
    }
    if cfb_readable(head) {
        return None;
    }
    match ext {
        Some("doc") => Some(FileKind::Doc),
        Some("xls") => Some(FileKind::Xls),
        Some("ppt") => Some(FileKind::Ppt),
        _ => None,
    }
}

fn cfb_readable(head: &[u8]) -> bool {
    cfb::CompoundFile::open(std::io::Cursor::new(head)).is_ok()
}

/// Checks that bytes fed in pieces are UTF-8 text: no NUL or other control characters than
/// tab, line feed, form feed and carriage return. A character split between pieces is
/// carried over.
#[derive(Debug, Default, Clone)]
pub struct TextCheck {
    carry: Vec<u8>,
    failed: bool,
}

impl TextCheck {
    /// Adds the next piece; false once the bytes are not text.
    pub fn feed(&mut self, piece: &[u8]) -> bool {
        if self.failed {
            return false;
        }
        let joined;
        let bytes = if self.carry.is_empty() {
            piece
        } else {
            joined = [self.carry.as_slice(), piece].concat();
            joined.as_slice()
        };
        let valid = match std::str::from_utf8(bytes) {
            Ok(s) => {
                self.carry.clear();
                s
            }
            // An incomplete character at the end waits for the next piece.
            Err(e) if e.error_len().is_none() => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                self.carry = rest.to_vec();
                std::str::from_utf8(valid).unwrap_or_default()
            }
            Err(_) => {
                self.failed = true;
                return false;
            }
        };
        if valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
        {
            self.failed = true;
        }
        !self.failed
    }

    /// After the last piece: no character may be left unfinished.
    pub fn finish(&self) -> bool {
        !self.failed && self.carry.is_empty()
    }

    /// After the sniffed head: when the file goes on, its last character may continue.
    fn finish_head(&self, whole_file: bool) -> bool {
        !self.failed && (!whole_file || self.carry.is_empty())
    }
}

/// A file name fit for display: the last path segment (either slash), no control or format
/// characters (bidi overrides, zero-width), trimmed, not `.`/`..`, at most
/// [`MAX_FILENAME_BYTES`] cut on a character boundary with the extension kept. Chinese and
/// other scripts stay as they are.
pub fn sanitize_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_format_char(*c))
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        return DEFAULT_FILENAME.to_owned();
    }
    if trimmed.len() <= MAX_FILENAME_BYTES {
        return trimmed.to_owned();
    }
    let (stem, ext) = match trimmed.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => (stem, Some(ext)),
        _ => (trimmed, None),
    };
    let room = MAX_FILENAME_BYTES - ext.map_or(0, |e| e.len() + 1);
    let mut cut = room.min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    let stem = stem[..cut].trim_end();
    match ext {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem.to_owned(),
    }
}

/// Unicode format characters (Cf) that change how a name looks without being seen.
fn is_format_char(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// `Content-Disposition` (RFC 6266): `inline` or `attachment`, an ASCII `filename` for old
/// clients and the exact name as `filename*=UTF-8''…` (RFC 8187 percent-encoding).
pub fn content_disposition(filename: &str, inline: bool) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(filename, ATTR_CHAR).to_string();
    format!(
        "{}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}",
        if inline { "inline" } else { "attachment" }
    )
}

/// RFC 8187 `attr-char` is alphanumerics and `!#$&+-.^_`|~`; everything else is encoded.
const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable single range: send the whole file (RFC 9110 allows ignoring a Range; several
    /// ranges are answered whole rather than as multipart/byteranges).
    Whole,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// A well-formed range that lies wholly past the end: 416.
    Unsatisfiable,
}

pub fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Whole;
    };
    let spec = spec.trim();
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeRequest::Whole;
    };
    let number = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // bytes=-N: the last N bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Part {
                    start: size.saturating_sub(n),
                    end: size - 1,
                }
            }
        }
        (false, Some(start), end) if last.trim().is_empty() || end.is_some() => {
            if end.is_some_and(|e| e < start) {
                return RangeRequest::Whole;
            }
            if start >= size {
                return RangeRequest::Unsatisfiable;
            }
            RangeRequest::Part {
                start,
                end: end.map_or(size - 1, |e| e.min(size - 1)),
            }
        }
        _ => RangeRequest::Whole,
    }
}

/// Whether an `If-None-Match` list names `etag` (weak comparison, as RFC 9110 13.1.2 says).
pub fn none_match(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|tag| {
        tag == "*"
            || tag.strip_prefix("W/").unwrap_or(tag) == etag.strip_prefix("W/").unwrap_or(etag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for name in names {
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 8, 0]);
            out.extend_from_slice(&[0; 16]);
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\x03\x00compressed");
        }
        out
    }

    #[test]
    fn images_and_pdf_are_known_by_their_magic_numbers() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
        assert_eq!(sniff(&jpeg, "x.txt"), Some(FileKind::Jpeg));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png, "photo.jpg"), Some(FileKind::Png));
        assert_eq!(sniff(b"GIF89a\x01\x00", "a"), Some(FileKind::Gif));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 ", "a"), Some(FileKind::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3", "a"), Some(FileKind::Pdf));
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(sniff(heic, "IMG_0001.HEIC"), Some(FileKind::Heic));
    }

    #[test]
    fn zips_are_told_apart_by_their_parts() {
        let docx = zip_with(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
        assert_eq!(sniff(&docx, "a.zip"), Some(FileKind::Docx));
        let xlsx = zip_with(&["[Content_Types].xml", "docProps/app.xml", "xl/workbook.xml"]);
        assert_eq!(sniff(&xlsx, "a"), Some(FileKind::Xlsx));
        let pptx = zip_with(&["[Content_Types].xml", "ppt/presentation.xml"]);
        assert_eq!(sniff(&pptx, "a"), Some(FileKind::Pptx));
        let ofd = zip_with(&["OFD.xml", "Doc_0/Document.xml"]);
        assert_eq!(sniff(&ofd, "通知.ofd"), Some(FileKind::Ofd));
        let plain = zip_with(&["setup.exe"]);
        assert_eq!(sniff(&plain, "report.docx"), None);
        let no_types = zip_with(&["word/document.xml"]);
        assert_eq!(sniff(&no_types, "report.docx"), None);
        assert_eq!(sniff(b"PK\x03\x04", "a.docx"), None);
    }

    #[test]
    fn compound_files_use_the_extension_only_when_the_directory_is_out_of_reach() {
        let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        ole.extend_from_slice(&[0; 504]);
        assert_eq!(sniff(&ole, "old.doc"), Some(FileKind::Doc));
        assert_eq!(sniff(&ole, "old.XLS"), Some(FileKind::Xls));
        assert_eq!(sniff(&ole, "old.ppt"), Some(FileKind::Ppt));
        assert_eq!(sniff(&ole, "setup.msi"), None);
        assert_eq!(sniff(&ole, "noext"), None);
    }

    #[test]
    fn executables_and_other_formats_are_refused_whatever_their_name() {
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        assert_eq!(sniff(elf, "photo.jpg"), None);
        let pe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0";
        assert_eq!(sniff(pe, "scan.pdf"), None);
        assert_eq!(sniff(b"\xca\xfe\xba\xbe\0\0\0\x02", "a.txt"), None);
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /\n", "notes.txt"), None);
        assert_eq!(sniff(b"\x1f\x8b\x08\0\0\0\0\0", "a.csv"), None);
        assert_eq!(sniff(b"7z\xbc\xaf\x27\x1c", "a.doc"), None);
        assert_eq!(sniff(b"text\0with nul", "a.txt"), None);
        assert_eq!(sniff(b"\xff\xfe\0\0", "a.txt"), None);
        assert_eq!(sniff(b"\xd5\xc5\xc8\xfd", "gbk.txt"), None);
    }

    #[test]
    fn utf8_text_is_text_and_csv_by_its_extension() {
        assert_eq!(
            sniff("营业执照，第一行\r\n".as_bytes(), "说明.txt"),
            Some(FileKind::Text)
        );
        assert_eq!(sniff(b"a,b\n1,2\n", "data.CSV"), Some(FileKind::Csv));
        assert_eq!(sniff(b"\xef\xbb\xbfa,b\n", "bom.csv"), Some(FileKind::Csv));
        assert_eq!(sniff(b"tab\tand\x0cform feed", "x"), Some(FileKind::Text));
        assert_eq!(sniff(b"bell\x07", "x.txt"), None);
        assert_eq!(sniff(b"\x1b[31m", "x.txt"), None);
        assert_eq!(sniff("\u{85}next line".as_bytes(), "x.txt"), None);
        // A whole file may not end inside a character; a head may (the file goes on).
        assert_eq!(sniff(b"abc\xe8\x90", "x.txt"), None);
        let mut long = vec![b'a'; SNIFF_BYTES - 2];
        long.extend_from_slice(b"\xe8\x90");
        assert_eq!(sniff(&long, "x.txt"), Some(FileKind::Text));
    }

    #[test]
    fn text_is_checked_across_pieces() {
        let bytes = "第一行,第二列\n".as_bytes();
        for split in 0..bytes.len() {
            let mut check = TextCheck::default();
            assert!(check.feed(&bytes[..split]));
            assert!(check.feed(&bytes[split..]));
            assert!(check.finish(), "split at {split}");
        }
        let mut check = TextCheck::default();
        assert!(check.feed(b"fine"));
        assert!(!check.feed(b"\0later"));
        assert!(!check.feed(b"fine again"));
        assert!(!check.finish());
        let mut check = TextCheck::default();
        assert!(check.feed(b"ends mid \xe4\xb8"));
        assert!(!check.finish());
        let mut check = TextCheck::default();
        assert!(!check.feed(b"\xe4\x28"));
    }

    #[test]
    fn kinds_have_one_type_and_images_and_pdf_are_inline() {
        let types: std::collections::HashSet<_> =
            FileKind::ALL.iter().map(|k| k.content_type()).collect();
        assert_eq!(types.len(), FileKind::ALL.len());
        for k in FileKind::ALL {
            assert_eq!(inline_content_type(k.content_type()), k.inline(), "{k:?}");
            assert_eq!(k.inline(), k.is_image() || k == FileKind::Pdf);
        }
        assert!(!inline_content_type("text/html"));
    }

    #[test]
    fn filenames_lose_paths_and_controls_and_keep_chinese() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitize_filename("C:\\Users\\王\\营业执照.pdf"),
            "营业执照.pdf"
        );
        assert_eq!(sanitize_filename("现场照片 1.jpg"), "现场照片 1.jpg");
        assert_eq!(sanitize_filename("a\0b\r\nc\u{7f}.txt"), "abc.txt");
        assert_eq!(sanitize_filename("evil\u{202E}gpj.exe"), "evilgpj.exe");
        assert_eq!(sanitize_filename("zero\u{200B}width"), "zerowidth");
        assert_eq!(sanitize_filename("  spaced.pdf  "), "spaced.pdf");
        assert_eq!(sanitize_filename(".hidden"), "hidden");
        for empty in [
            "",
            "   ",
            "..",
            ".",
            "../",
            "dir/",
            "\u{0}\u{1}",
            "\u{202E}",
        ] {
            assert_eq!(sanitize_filename(empty), DEFAULT_FILENAME, "{empty:?}");
        }
    }

    #[test]
    fn long_filenames_are_cut_on_a_character_boundary_keeping_the_extension() {
        let long = "照".repeat(10_000) + ".pdf";
        let name = sanitize_filename(&long);
        assert!(name.len() <= MAX_FILENAME_BYTES, "{}", name.len());
        assert!(name.ends_with("照.pdf"), "{name}");
        assert!(name.len() > MAX_FILENAME_BYTES - 4);
        let ascii = "a".repeat(10_000);
        assert_eq!(sanitize_filename(&ascii).len(), MAX_FILENAME_BYTES);
        let odd_ext = format!("x.{}", "e".repeat(300));
        let cut = sanitize_filename(&odd_ext);
        assert_eq!(cut.len(), MAX_FILENAME_BYTES);
        assert!(cut.starts_with("x."));
        for n in 250..260 {
            let mixed = "a".repeat(n) + "营业执照";
            let s = sanitize_filename(&mixed);
            assert!(s.len() <= MAX_FILENAME_BYTES);
            assert!(mixed.starts_with(&s));
        }
    }

    #[test]
    fn content_disposition_follows_rfc_6266() {
        assert_eq!(
            content_disposition("scan.pdf", true),
            "inline; filename=\"scan.pdf\"; filename*=UTF-8''scan.pdf"
        );
        assert_eq!(
            content_disposition("营业执照.docx", false),
            "attachment; filename=\"____.docx\"; \
             filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.docx"
        );
        assert_eq!(
            content_disposition("a \"q\"\\;b.txt", false),
            "attachment; filename=\"a _q__;b.txt\"; filename*=UTF-8''a%20%22q%22%5C%3Bb.txt"
        );
    }

    #[test]
    fn ranges_are_parsed_as_rfc_9110_says() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 100), Whole);
        assert_eq!(
            parse_range(Some("bytes=0-9"), 100),
            Part { start: 0, end: 9 }
        );
        assert_eq!(
            parse_range(Some("bytes=90-"), 100),
            Part { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=90-500"), 100),
            Part { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=-10"), 100),
            Part { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=-500"), 100),
            Part { start: 0, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=99-99"), 100),
            Part { start: 99, end: 99 }
        );
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
        for ignored in [
            "bytes=5-1",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=a-b",
            "bytes=",
            "bytes=-",
            "bytes=1",
            "bytes=+1-2",
            "bytes=1--2",
        ] {
            assert_eq!(parse_range(Some(ignored), 100), Whole, "{ignored}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(none_match("\"abc\"", "\"abc\""));
        assert!(none_match("W/\"abc\"", "\"abc\""));
        assert!(none_match("\"x\", \"abc\"", "\"abc\""));
        assert!(none_match("*", "\"abc\""));
        assert!(!none_match("\"abd\"", "\"abc\""));
        assert!(!none_match("", "\"abc\""));
    }
}
