//! RSASSA-PSS made by OpenSSL (`openssl cms -sign -keyopt rsa_padding_mode:pss`): verified when
//! its parameters are the ones ring verifies with (MGF1 with the signature's digest, a
//! digest-length salt, trailerField 1), refused when the signature claims anything else —
//! a trailerField of 2 (issue 12: it used to verify as valid), another salt, another MGF hash.

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::{Decode, Encode};
use qoltanba::verify::{Request, Verdict};

use crate::common::valid_iin;
use crate::openssl_pki::{LeafSpec, OpensslPki, SignOpts};
use crate::verify_openssl::{assert_valid, check, current_crls, json, request, verifier};

/// The CMS with its first SignerInfo's signatureAlgorithm parameters replaced by `params`
/// (DER). The signature stays genuine: signatureAlgorithm is not among the signed attributes.
fn with_pss_params(cms_der: &[u8], params: &[u8]) -> Vec<u8> {
    let mut info = ContentInfo::from_der(cms_der).expect("ContentInfo");
    let mut signed: SignedData = info.content.decode_as().expect("SignedData");
    let mut signers = signed.signer_infos.0.into_vec();
    signers[0].signature_algorithm.parameters = Some(der::Any::from_der(params).expect("any"));
    signed.signer_infos = cms::signed_data::SignerInfos::try_from(signers).expect("set");
    info.content = der::Any::encode_from(&signed).expect("content");
    info.to_der().expect("DER")
}

/// The RSASSA-PSS-params of the first SignerInfo (DER).
fn pss_params(cms_der: &[u8]) -> Vec<u8> {
    let info = ContentInfo::from_der(cms_der).expect("ContentInfo");
    let signed: SignedData = info.content.decode_as().expect("SignedData");
    let signer = signed
        .signer_infos
        .0
        .iter()
        .next()
        .expect("a signer")
        .clone();
    signer
        .signature_algorithm
        .parameters
        .expect("PSS parameters")
        .to_der()
        .expect("DER")
}

/// `params` (a DER SEQUENCE) with `[3] INTEGER trailer` appended.
fn with_trailer(params: &[u8], trailer: u8) -> Vec<u8> {
    let mut body = params[2..].to_vec(); // short-form length: the parameters are ~50 bytes
    assert!(params[1] < 0x80 && params.len() == 2 + params[1] as usize);
    body.extend([0xA3, 0x03, 0x02, 0x01, trailer]);
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

#[tokio::test]
async fn pss_verifies_with_the_parameters_ring_uses_and_never_with_others() {
    let pki = OpensslPki::new(None, None);
    let (issuing_crl, root_crl) = current_crls(&pki);
    let v = verifier(&pki, &[&issuing_crl, &root_crl]);
    let leaf = pki.leaf(&LeafSpec::new(&format!("pss-{}", valid_iin())));
    let content = json(&valid_iin().to_string());
    let sign = |md, saltlen| {
        let opts = SignOpts {
            md,
            pss_saltlen: Some(saltlen),
            ..SignOpts::default()
        };
        std::fs::read(pki.sign(&leaf, &content, &opts)).expect("read")
    };
    let verify = |signature: Vec<u8>| {
        let v = &v;
        async move {
            v.verify(&Request {
                signature,
                ..Request::default()
            })
            .await
        }
    };

    for md in ["sha256", "sha384", "sha512"] {
        let signature = sign(md, "digest");
        assert_valid(&verify(signature.clone()).await, &format!("PSS {md}"));
        // The same parameters with the default trailerField written out are the same claim.
        let explicit = with_pss_params(&signature, &with_trailer(&pss_params(&signature), 1));
        assert_valid(
            &verify(explicit).await,
            &format!("PSS {md}, trailerField 1"),
        );
        // trailerField 2: RFC 4055/8017 allow only 1.
        let trailer_2 = with_pss_params(&signature, &with_trailer(&pss_params(&signature), 2));
        let report = verify(trailer_2).await;
        assert_eq!(
            report.verdict,
            Verdict::Invalid,
            "{md} trailer 2: {report:#?}"
        );
        assert_eq!(check(&report, "signature").code, "UNSUPPORTED_ALGORITHM");
    }
    // A salt other than the digest's length: not what ring verifies with, so never "valid".
    let report = verify(sign("sha256", "max")).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(check(&report, "signature").code, "UNSUPPORTED_ALGORITHM");
    // The signature's file, unaltered, still verifies by path as every other test reads it.
    let signature = pki.sign(
        &leaf,
        &content,
        &SignOpts {
            pss_saltlen: Some("digest"),
            ..SignOpts::default()
        },
    );
    assert_valid(&v.verify(&request(&signature)).await, "PSS from the file");
}
