//! Arbitrary bytes as a PKCS#12 key store (`keystore::open_pkcs12`, modern and NCA's legacy
//! formats, with the NCA test password) and as a PKCS#8 private key (`SigningKey::from_pkcs8`:
//! RSA, P-256, Ed25519 and NCA's GOST 2015 and 2004 forms). A key that loads must sign, and its
//! signature must verify under its own public key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qoltanba::crypto::{verify_signature, SigningKey};

fn exercise_key(pkcs8: &[u8]) {
    let Ok(key) = SigningKey::from_pkcs8(pkcs8) else {
        return;
    };
    let _ = format!("{key:?}");
    let spki = key
        .public_key_info()
        .expect("a loaded key has a public key");
    let signature = key.sign(b"fuzz").expect("a loaded key signs");
    let id = key.signature_algorithm().identifier();
    assert!(verify_signature(&id, &spki, b"fuzz", &signature).is_ok());
}

fuzz_target!(|data: &[u8]| {
    exercise_key(data);
    for password in ["Qwerty12", "Aa123456"] {
        if let Ok(contents) = qoltanba::keystore::open_pkcs12(data, password) {
            exercise_key(&contents.private_key_pkcs8);
        }
    }
});
