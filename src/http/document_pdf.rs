//! The PDF of a registered document, with the QR code of its verification page.

use super::ApiError;
use crate::pki::Urls;
use crate::sign::document::Kind;
use crate::store::DocumentRecord;

/// Field labels in Russian / Kazakh, by payload key.
const LABELS: &[(&str, &str)] = &[
    ("authority.name", "Лицензиар / Лицензиар"),
    ("authority.bin", "БИН лицензиара / Лицензиардың БСН"),
    ("recipient.name", "Лицензиат / Лицензиат"),
    ("recipient.iin", "ИИН / ЖСН"),
    ("recipient.bin", "БИН / БСН"),
    ("activity", "Вид деятельности / Қызмет түрі"),
    ("subtype", "Подвид / Кіші түрі"),
    ("issued_on", "Дата выдачи / Берілген күні"),
    ("valid_until", "Срок действия / Қолданылу мерзімі"),
    ("license_number", "Номер лицензии / Лицензия нөмірі"),
    ("request_id", "Заявление / Өтініш"),
    ("text", "Текст / Мәтін"),
];

pub(super) fn render(record: &DocumentRecord, urls: &Urls) -> Result<Vec<u8>, ApiError> {
    // The same fields whether the document was signed as CMS or as XML.
    let doc = crate::sign::registry::document_of(record)
        .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", e))?;
    let payload = &doc["payload"];
    let mut fields: Vec<(String, String)> = Vec::new();
    for (key, label) in LABELS {
        let value = key.split('.').fold(payload, |v, k| &v[k]);
        if let Some(text) = value.as_str() {
            fields.push(((*label).to_owned(), text.to_owned()));
        }
    }
    for (i, reason) in payload["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(r) = reason.as_str() {
            fields.push((format!("Причина {} / Себеп {}", i + 1, i + 1), r.to_owned()));
        }
    }
    fields.push(("SHA-256".into(), record.sha256.clone()));
    let (ru, kk) = Kind::parse(&record.kind)
        .map(Kind::title)
        .unwrap_or(("ДОКУМЕНТ", "ҚҰЖАТ"));
    let title = format!("{ru} / {kk}");
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(l, v)| (l.as_str(), v.as_str()))
        .collect();
    let url = urls.document_verification(&record.number);
    let pdf = crate::sign::pdf::PdfDocument {
        title: &title,
        number: &record.number,
        date: &crate::time::rfc3339(record.created_at)[..10],
        fields: &refs,
        footer: "Электронный документ подписан ЭЦП уполномоченного лица / Электрондық құжатқа уәкілетті тұлғаның ЭЦҚ-сы қойылған",
        verification_url: &url,
    };
    crate::sign::pdf::render(&pdf).map_err(|e| {
        tracing::error!(error = %e, "PDF rendering failed");
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the PDF could not be rendered",
        )
    })
}
