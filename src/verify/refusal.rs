//! The процесс 7 refusal: "в связи с не подтверждением подлинности ЭЦП", with the reason, in
//! Russian, Kazakh and English. Every sub-indication is matched by name: a new one cannot fall
//! into a generic text unnoticed.

use super::report::{Refusal, SubIndication};

/// The refusal for a report whose first failing check has `sub`; `detail` is its reason.
pub(super) fn refusal(sub: Option<SubIndication>, detail: String) -> Refusal {
    use SubIndication as S;
    let did_not_verify = (
        "подпись не прошла проверку",
        "қолтаңба тексеруден өтпеді",
        "the signature did not verify",
    );
    let (ru, kk, en) = match sub {
        Some(S::Revoked) => (
            "сертификат ЭЦП отозван",
            "ЭЦҚ сертификаты кері қайтарылған",
            "the signing certificate is revoked",
        ),
        Some(S::Expired) => (
            "срок действия сертификата ЭЦП истёк",
            "ЭЦҚ сертификатының қолданылу мерзімі өткен",
            "the signing certificate has expired",
        ),
        Some(S::NotYetValid) => (
            "срок действия сертификата ЭЦП ещё не наступил",
            "ЭЦҚ сертификатының қолданылу мерзімі әлі басталмаған",
            "the signing certificate is not yet valid",
        ),
        Some(S::SigConstraintsFailure) => (
            "ИИН/БИН или назначение ключа не соответствуют запросу",
            "ЖСН/БСН немесе кілттің мақсаты сұрауға сәйкес келмейді",
            "the IIN/BIN or the key's purpose does not match the request",
        ),
        Some(S::NoCertificateChainFound) | Some(S::ChainConstraintsFailure) => (
            "сертификат ЭЦП выдан не доверенным удостоверяющим центром",
            "ЭЦҚ сертификатын сенімді куәландырушы орталық бермеген",
            "the signing certificate was not issued by a trusted certification authority",
        ),
        Some(S::TryLater) => (
            "не удалось проверить статус отзыва сертификата",
            "сертификаттың кері қайтарылу мәртебесін тексеру мүмкін болмады",
            "the revocation status of the certificate could not be checked",
        ),
        Some(S::RevocationOutOfBoundsNoPoe) => (
            "нет сведений о статусе отзыва сертификата на подтверждённое время подписания",
            "қол қойылғаны дәлелденген уақытқа сертификаттың кері қайтарылу мәртебесі туралы мәлімет жоқ",
            "no revocation information covers the proven signing time of the certificate",
        ),
        Some(S::CryptoConstraintsFailure) => (
            "использован недопустимый криптографический алгоритм",
            "рұқсат етілмеген криптографиялық алгоритм қолданылған",
            "a cryptographic algorithm that is not allowed was used",
        ),
        // The signature itself, its content or its form: the general text is the specific one.
        Some(S::FormatFailure)
        | Some(S::SigCryptoFailure)
        | Some(S::HashFailure)
        | Some(S::NoSigningCertificateFound)
        | None => did_not_verify,
    };
    Refusal {
        ru: format!("Отказ в связи с не подтверждением подлинности ЭЦП: {ru}."),
        kk: format!("ЭЦҚ түпнұсқалығы расталмауына байланысты бас тартылды: {kk}."),
        en: format!("Refused because the authenticity of the electronic digital signature (ЭЦП) was not confirmed: {en}."),
        reason: detail,
    }
}
