//! The PDF rendering against independent readers: poppler's pdftotext / pdfinfo / pdftoppm
//! (Debian poppler-utils) and zbar's zbarimg (zbar-tools). Missing tools fail the tests.

use std::path::Path;
use std::process::{Command, Output};

use qoltanba::sign::pdf::{render, PdfDocument};

const URL: &str = "https://qoltanba.example.kz/v1/documents/KZ-19850-2026-000017/verify";
const KAZAKH_LETTERS: [&str; 18] = [
    "ә", "ғ", "қ", "ң", "ө", "ұ", "ү", "һ", "і", "Ә", "Ғ", "Қ", "Ң", "Ө", "Ұ", "Ү", "Һ", "І",
];

const FIELDS: &[(&str, &str)] = &[
    ("Лицензиат / Лицензиат", "«Қолтаңба» ЖШС / ТОО «Қолтаңба»"),
    ("БСН / БИН", "123456789012"),
    (
        "Қызмет түрі / Вид деятельности",
        "Әуежайлардағы ұшу қауіпсіздігін қамтамасыз ету, өңірлік һәм ғарыштық \
         байланыс құралдарына қызмет көрсету",
    ),
    (
        "Заңды мекенжайы / Юридический адрес",
        "Астана қ., Есіл ауданы, Мәңгілік Ел даңғылы, 8",
    ),
    (
        "Лицензиар / Лицензиар",
        "Комитет по регулированию естественных монополий Министерства национальной экономики \
         Республики Казахстан",
    ),
    ("ІІН / ИИН", "ҮӨҰҺІ ӘҒҚҢ — 900517312343"),
];

fn document<'a>(fields: &'a [(&'a str, &'a str)]) -> PdfDocument<'a> {
    PdfDocument {
        title: "ЛИЦЕНЗИЯ / ЛИЦЕНЗИЯ — Қазақстан Республикасы",
        number: "KZ-19850-2026-000017",
        date: "2026-11-23",
        fields,
        footer: "Документ подписан ЭЦП в соответствии с законодательством Республики Казахстан / \
                 Құжат ЭЦҚ-мен қол қойылған",
        verification_url: URL,
    }
}

/// Runs a tool, failing loudly if it is missing or fails.
fn run(program: &str, args: &[&str], package: &str) -> Output {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} ({e}): install the Debian package {package}")
        });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn write_pdf(dir: &Path, name: &str, doc: &PdfDocument<'_>) -> String {
    let pdf = render(doc).expect("render the PDF");
    let path = dir.join(name);
    std::fs::write(&path, pdf).expect("write the PDF");
    path.to_str().expect("UTF-8 temp path").to_owned()
}

fn pages(path: &str) -> usize {
    let info = run("pdfinfo", &[path], "poppler-utils");
    let info = String::from_utf8(info.stdout).expect("pdfinfo output is UTF-8");
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .expect("pdfinfo prints Pages:")
        .trim()
        .parse()
        .expect("page count")
}

#[test]
fn pdftotext_extracts_kazakh_and_russian() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_pdf(dir.path(), "license.pdf", &document(FIELDS));
    let text = run("pdftotext", &["-enc", "UTF-8", &path, "-"], "poppler-utils");
    let text = String::from_utf8(text.stdout).expect("pdftotext output is UTF-8");
    for letter in KAZAKH_LETTERS {
        assert!(
            text.contains(letter),
            "{letter} not extracted from:\n{text}"
        );
    }
    for phrase in [
        "ЛИЦЕНЗИЯ / ЛИЦЕНЗИЯ",
        "Вид деятельности",
        "Документ подписан ЭЦП",
        "Комитет по регулированию естественных",
        "Мәңгілік Ел даңғылы",
        "KZ-19850-2026-000017",
        "2026-11-23",
        URL,
    ] {
        assert!(
            text.contains(phrase),
            "{phrase:?} not extracted from:\n{text}"
        );
    }
}

#[test]
fn the_qr_code_decodes_to_the_verification_url() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_pdf(dir.path(), "license.pdf", &document(FIELDS));
    let prefix = dir.path().join("page");
    let prefix = prefix.to_str().expect("UTF-8 temp path");
    run(
        "pdftoppm",
        &["-png", "-r", "150", &path, prefix],
        "poppler-utils",
    );
    let png = format!("{prefix}-1.png");
    // QR codes only: text on the page must not be read as some other symbology.
    let args = ["--raw", "-q", "-Sdisable", "-Sqrcode.enable", &png];
    let decoded = run("zbarimg", &args, "zbar-tools");
    let decoded = String::from_utf8(decoded.stdout).expect("zbarimg output is UTF-8");
    assert_eq!(decoded.trim_end_matches('\n'), URL);
}

#[test]
fn pdfinfo_counts_one_page_for_a_short_document_and_more_for_a_long_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let short = write_pdf(dir.path(), "short.pdf", &document(FIELDS));
    assert_eq!(pages(&short), 1);

    let many: Vec<(&str, &str)> = FIELDS.iter().copied().cycle().take(120).collect();
    let long = write_pdf(dir.path(), "long.pdf", &document(&many));
    let count = pages(&long);
    assert!(count > 1, "{count} pages");

    // Every page is readable, and the text on the last one is still there.
    let text = run("pdftotext", &["-enc", "UTF-8", &long, "-"], "poppler-utils");
    let text = String::from_utf8(text.stdout).expect("pdftotext output is UTF-8");
    assert_eq!(text.matches("ТОО «Қолтаңба»").count(), 20);
    // The last page's footer, "N / N" (pdftotext may drop the spaces around the slash).
    let compact: String = text.split_whitespace().collect();
    assert!(
        compact.contains(&format!("{count}/{count}")),
        "no {count} / {count}"
    );
}
