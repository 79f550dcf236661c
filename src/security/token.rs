//! The bearer token: `qlt_` + a 16-hex-digit public id + `_` + a 43-character secret (32 random
//! bytes, base64url). The id finds the row; only SHA-256 of the secret is stored, and the
//! comparison is constant-time. A 256-bit random secret needs no slow password hash.

use base64::Engine as _;
use crypto_bigint::subtle::ConstantTimeEq;
use std::fmt;
use zeroize::Zeroizing;

use crate::crypto::CryptoError;

const PREFIX: &str = "qlt_";
const ID_HEX: usize = 16;
const SECRET_CHARS: usize = 43;

/// A token in hand (freshly generated, or presented by a caller).
pub struct Token {
    id: String,
    secret: Zeroizing<String>,
}

// By hand: the secret never reaches a log line.
impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Token {
    pub fn generate() -> Result<Token, CryptoError> {
        let id = hex::encode(crate::crypto::random_bytes::<8>()?);
        let secret = Zeroizing::new(crate::crypto::random_bytes::<32>()?);
        Ok(Token {
            id,
            secret: Zeroizing::new(
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&secret[..]),
            ),
        })
    }

    /// Parses `qlt_<id>_<secret>`; None for anything else.
    pub fn parse(text: &str) -> Option<Token> {
        let rest = text.strip_prefix(PREFIX)?;
        if rest.len() != ID_HEX + 1 + SECRET_CHARS || !rest.is_ascii() {
            return None;
        }
        let (id, secret) = rest.split_at(ID_HEX);
        let secret = secret.strip_prefix('_')?;
        let id_ok = id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let secret_ok = secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (id_ok && secret_ok).then(|| Token {
            id: id.to_owned(),
            secret: Zeroizing::new(secret.to_owned()),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The whole token, to show once.
    pub fn reveal(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{PREFIX}{}_{}", self.id, self.secret.as_str()))
    }

    pub fn secret_hash(&self) -> String {
        hex::encode(crate::crypto::sha256(self.secret.as_bytes()))
    }

    /// Constant-time comparison with a stored hash.
    pub fn matches_hash(&self, stored: &str) -> bool {
        bool::from(self.secret_hash().as_bytes().ct_eq(stored.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_malformed_ones_are_refused() {
        let token = Token::generate().expect("token");
        let text = token.reveal();
        let parsed = Token::parse(&text).expect("parses");
        assert_eq!(parsed.id(), token.id());
        assert!(parsed.matches_hash(&token.secret_hash()));
        assert!(!format!("{token:?}").contains(&text[21..]));
        let other = Token::generate().expect("token");
        assert!(!parsed.matches_hash(&other.secret_hash()));
        for bad in [
            "",
            "qlt_",
            &text[..text.len() - 1],
            &text.replace("qlt_", "qlx_"),
            &format!("{}é", &text[..text.len() - 1]),
            &text.to_uppercase(),
        ] {
            assert!(Token::parse(bad).is_none(), "{bad}");
        }
    }
}
