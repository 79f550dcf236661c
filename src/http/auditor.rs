//! The auditor page `/verify`: check a document by its registration number (what the QR code on
//! the PDF opens) or by uploading its signature. Plain HTML forms, no JavaScript; Russian and
//! Kazakh (English below).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use serde::Deserialize;

use super::document_checks::{audit_signature, verify_record, Audit};
use super::extract::{refuse_oversized, ApiMultipart, ApiQuery};
use super::{ApiError, AppState};
use crate::pki::signature_level;
use crate::store::DocumentRecord;
use crate::verify::{Report, Status, Verdict};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "body{font-family:sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}td{word-break:break-all}\
.valid{color:#176b2c}.invalid{color:#a61b1b}.indeterminate{color:#8a5a00}form{margin:1rem 0;padding:1rem;background:#f6f6f6}";

fn page(body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><html lang=\"ru\"><head><meta charset=\"utf-8\"><title>Проверка документа / Құжатты тексеру</title>\
         <style>{STYLE}</style></head><body><h1>Проверка электронного документа<br>Электрондық құжатты тексеру</h1>{body}{}</body></html>",
        forms()
    ))
}

fn forms() -> &'static str {
    "<form method=\"get\" action=\"/verify\"><label>Регистрационный номер / Тіркеу нөмірі<br>\
     <input name=\"number\" id=\"number\" size=\"40\" required></label> <button type=\"submit\" id=\"check-number\">Проверить / Тексеру</button></form>\
     <form method=\"post\" action=\"/verify\" enctype=\"multipart/form-data\"><label>Файл подписи (CMS .p7s или подписанный XML) / Қолтаңба файлы (CMS .p7s немесе қол қойылған XML)<br>\
     <input type=\"file\" name=\"signature\" required></label><br><label>Подписанный файл, если подпись отделена / Қол қойылған файл (бөлек болса)<br>\
     <input type=\"file\" name=\"content\"></label><br><button type=\"submit\" id=\"check-file\">Проверить / Тексеру</button></form>"
}

/// A signature level (ETSI EN 319 122-1) explained in Russian / Kazakh / English.
fn level_label(level: &str) -> String {
    let (ru, kk, en) = match level {
        "B" => (
            "базовая подпись без метки времени",
            "уақыт белгісіз базалық қолтаңба",
            "basic signature, no time-stamp",
        ),
        "T" => (
            "с меткой времени подписи",
            "қолтаңбаның уақыт белгісімен",
            "with a signature time-stamp",
        ),
        "LT" => (
            "с меткой времени и данными для долгосрочной проверки",
            "уақыт белгісімен және ұзақ мерзімді тексеру деректерімен",
            "with a time-stamp and long-term validation data",
        ),
        "LTA" => (
            "с архивной меткой времени (долгосрочное хранение)",
            "мұрағаттық уақыт белгісімен (ұзақ мерзімді сақтау)",
            "with an archive time-stamp (long-term archival)",
        ),
        _ => ("", "", ""),
    };
    format!("{level} — {ru} / {kk} / {en}")
}

/// A time-stamp's kind and status in Russian / Kazakh / English.
fn time_stamp_label(kind: &str, status: Status) -> String {
    let kind = match kind {
        "signature" => "метка времени подписи / қолтаңбаның уақыт белгісі / signature time-stamp",
        "archive" => "архивная метка времени / мұрағаттық уақыт белгісі / archive time-stamp",
        other => other,
    };
    let status = match status {
        Status::Passed => "действительна / жарамды / valid",
        Status::Failed => "недействительна / жарамсыз / not valid",
        Status::Indeterminate => "не подтверждена / расталмады / indeterminate",
        Status::Skipped => "не проверена / тексерілмеді / not checked",
    };
    format!("{kind}: {status}")
}

/// What the page shows of the evidence: the signature's level and, for a registered
/// document, until when its evidence holds.
struct Evidence {
    level: &'static str,
    horizon: Option<i64>,
    /// The registered document's place in the transparency log, in words (None: not asked).
    log: Option<String>,
}

/// The log line of a registered document: its entry and whether the document as stored is
/// proved in the newest checkpoint.
async fn log_line(state: &AppState, record: &crate::store::DocumentRecord) -> String {
    match state.pki.document_in_log(record).await {
        Ok(Some(found)) => super::log::DocumentLogView::of(&found).describe(),
        Ok(None) => "нет записи / жазба жоқ / no entry (registered before the log)".to_owned(),
        Err(e) => {
            tracing::error!(error = %e, "transparency log lookup failed");
            "не удалось проверить / тексеру мүмкін болмады / could not be checked".to_owned()
        }
    }
}

fn result(
    report: &Report,
    record: Option<&DocumentRecord>,
    sha256: Option<&str>,
    evidence: &Evidence,
) -> String {
    let (class, ru, kk, en) = match report.verdict {
        Verdict::Valid => (
            "valid",
            "Подпись действительна",
            "Қолтаңба жарамды",
            "The signature is valid",
        ),
        Verdict::Invalid => (
            "invalid",
            "Подпись недействительна",
            "Қолтаңба жарамсыз",
            "The signature is not valid",
        ),
        Verdict::Indeterminate => (
            "indeterminate",
            "Подлинность не удалось подтвердить",
            "Түпнұсқалығын растау мүмкін болмады",
            "Authenticity could not be established",
        ),
    };
    let mut html = format!(
        "<h2 id=\"verdict\" class=\"{class}\">{ru} / {kk}</h2><p>{en} ({})</p><table>",
        escape(report.indication)
    );
    let row = |html: &mut String, label: &str, value: &str| {
        html.push_str(&format!(
            "<tr><th>{label}</th><td>{}</td></tr>",
            escape(value)
        ))
    };
    for signer in &report.signers {
        let s = &signer.subject;
        row(
            &mut html,
            "Подписант / Қол қоюшы",
            s.cn.as_deref().unwrap_or("—"),
        );
        if let Some(org) = &s.organisation {
            row(&mut html, "Организация / Ұйым", org);
        }
        row(&mut html, "ИИН / ЖСН", s.iin.as_deref().unwrap_or("—"));
        row(&mut html, "БИН / БСН", s.bin.as_deref().unwrap_or("—"));
        let roles: Vec<String> = signer.roles.iter().map(|r| role_label(r)).collect();
        row(&mut html, "Роль / Рөлі", &roles.join("; "));
        row(
            &mut html,
            "Время подписи / Қол қойылған уақыты",
            signer.signing_time.as_deref().unwrap_or("—"),
        );
        row(
            &mut html,
            "Алгоритм подписи / Қолтаңба алгоритмі",
            signer.algorithm.as_deref().unwrap_or("—"),
        );
        // The time the signature is proven to have existed at: the verdict is judged then.
        row(
            &mut html,
            "Доказательство существования / Болу дәлелі / Proof of existence",
            signer.proof_of_existence.as_deref().unwrap_or("—"),
        );
        for stamp in &signer.timestamps {
            let mut text = format!(
                "{} — {}",
                stamp.gen_time.as_deref().unwrap_or("—"),
                time_stamp_label(stamp.kind, stamp.status)
            );
            if let Some(tsa) = &stamp.tsa {
                text.push_str(&format!(" — {tsa}"));
            }
            row(
                &mut html,
                "Метка времени / Уақыт белгісі / Time-stamp",
                &text,
            );
        }
    }
    row(
        &mut html,
        "Уровень подписи / Қолтаңба деңгейі / Signature level",
        &level_label(evidence.level),
    );
    if let Some(horizon) = evidence.horizon {
        row(
            &mut html,
            "Доказательства действуют до / Дәлелдер жарамды / Evidence holds until",
            &crate::time::rfc3339(horizon),
        );
    }
    if let Some(hash) = sha256 {
        row(&mut html, "SHA-256 документа / құжаттың SHA-256", hash);
    }
    match record {
        Some(r) => row(
            &mut html,
            "В реестре / Тізілімде",
            &format!("№ {} ({})", r.number, r.kind),
        ),
        None => row(&mut html, "В реестре / Тізілімде", "не найден / табылмады"),
    }
    if let Some(log) = &evidence.log {
        row(
            &mut html,
            "Журнал прозрачности / Ашықтық журналы / Transparency log",
            log,
        );
    }
    html.push_str("</table>");
    if let Some(refusal) = &report.refusal {
        html.push_str(&format!(
            "<p>{}<br>{}</p>",
            escape(&refusal.ru),
            escape(&refusal.kk)
        ));
    }
    html
}

/// NCA roles in Russian / Kazakh, with the identifier the API uses.
fn role_label(role: &str) -> String {
    let label = match role {
        "individual" => "физическое лицо / жеке тұлға",
        "legal_entity" => "юридическое лицо / заңды тұлға",
        "first_head" => "первый руководитель / бірінші басшы",
        "signing_right" => "право подписи / қол қою құқығы",
        "financial_signer" => "финансовые документы / қаржы құжаттары",
        "hr" => "отдел кадров / кадр бөлімі",
        "employee" => "сотрудник / қызметкер",
        "information_system" => "информационная система / ақпараттық жүйе",
        other => return other.to_owned(),
    };
    format!("{label} ({role})")
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct NumberQuery {
    /// The registration number to check; without it, the empty page with its forms.
    #[serde(default)]
    number: Option<String>,
}

/// `GET /verify[?number=…]`.
#[utoipa::path(
    get,
    path = "/verify",
    operation_id = "auditorPage",
    tag = "verification",
    summary = "The auditor page: check a document by its number",
    description = "A plain HTML page (Russian and Kazakh, no JavaScript) that the QR code on the \
        PDF opens: the verdict for the document registered under `number`, and forms to check \
        another number or upload a signature.",
    params(NumberQuery),
    responses(
        (status = 200, description = "The page (with the verdict when a number is given).", content_type = "text/html; charset=utf-8", body = String),
        (status = 404, description = "The page, saying no document has that number.", content_type = "text/html; charset=utf-8", body = String),
        (status = 500, description = "The page, saying the registry could not be read.", content_type = "text/html; charset=utf-8", body = String),
    ),
)]
pub(super) async fn by_number(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<NumberQuery>,
) -> (StatusCode, Html<String>) {
    let Some(number) = query
        .number
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
    else {
        return (StatusCode::OK, page(""));
    };
    match state.pki.store().document_by_number(&number).await {
        Ok(Some(record)) => match verify_record(&state, &record).await {
            Ok((report, current)) => {
                let log = Some(log_line(&state, &record).await);
                let evidence = Evidence { level: current.level, horizon: current.horizon, log };
                (StatusCode::OK, page(&result(&report, Some(&record), Some(&record.sha256), &evidence)))
            }
            Err(e) => {
                tracing::error!(error = %e, "registry lookup failed");
                (StatusCode::INTERNAL_SERVER_ERROR, page("<h2>Ошибка сервиса / Қызмет қатесі</h2>"))
            }
        },
        Ok(None) => (
            StatusCode::NOT_FOUND,
            page(&format!("<h2 id=\"verdict\" class=\"invalid\">Документ № {0} не найден / № {0} құжат табылмады</h2>", escape(&number))),
        ),
        Err(e) => {
            tracing::error!(error = %e, "registry lookup failed");
            (StatusCode::INTERNAL_SERVER_ERROR, page("<h2>Ошибка сервиса / Қызмет қатесі</h2>"))
        }
    }
}

/// `POST /verify` (multipart): a signature file and, for detached signatures, the signed file.
#[utoipa::path(
    post,
    path = "/verify",
    operation_id = "auditorUpload",
    tag = "verification",
    summary = "The auditor page: check an uploaded signature",
    description = "The page's upload form: a signature file (CMS, or a signed XML document) \
        and, for a detached signature, the signed file. Answers with the page and the verdict.",
    request_body(content = super::openapi::AuditorUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The page with the verdict.", content_type = "text/html; charset=utf-8", body = String),
        (status = 400, description = "The page, saying the form or the file could not be read; \
            or `bad_multipart` (JSON) when the body is not `multipart/form-data` with a boundary.",
         content(
            (String = "text/html; charset=utf-8"),
            (super::openapi::ErrorBody = "application/json"),
         )),
        (status = 413, description = "`payload_too_large`: the upload is over the limit.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn upload(
    State(state): State<AppState>,
    ApiMultipart(mut form): ApiMultipart,
) -> Result<(StatusCode, Html<String>), ApiError> {
    let bad = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            page(&format!(
                "<h2 id=\"verdict\" class=\"invalid\">{}</h2>",
                escape(why)
            )),
        )
    };
    let (mut signature, mut content) = (None, None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let bytes = match field.bytes().await {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        refuse_oversized(&e)?;
                        return Ok(bad("Файл не прочитан / Файл оқылмады"));
                    }
                };
                match name.as_str() {
                    "signature" if !bytes.is_empty() => signature = Some(bytes.to_vec()),
                    "content" if !bytes.is_empty() => content = Some(bytes.to_vec()),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => {
                refuse_oversized(&e)?;
                return Ok(bad("Неверная форма / Қате форма"));
            }
        }
    }
    let Some(signature) = signature else {
        return Ok(bad("Выберите файл подписи / Қолтаңба файлын таңдаңыз"));
    };
    let level = signature_level(&signature).as_str();
    let Audit { report, registry } = audit_signature(&state, signature, content).await;
    let log = match &registry.record {
        Some(record) => Some(log_line(&state, record).await),
        None => None,
    };
    let evidence = Evidence {
        level,
        horizon: None,
        log,
    };
    Ok((
        StatusCode::OK,
        page(&result(
            &report,
            registry.record.as_ref(),
            registry.sha256.as_deref(),
            &evidence,
        )),
    ))
}
