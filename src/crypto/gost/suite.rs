//! NCA's two GOST generations as rows of one table: the curve, the hash the signature is made
//! over, and the sizes. Everything else (curve arithmetic, byte order, constant-time signing,
//! the hedged nonce) is shared.

use super::curve::Curve;

/// A GOST signature suite as NCA RK uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// NCA's "GOST 34.10-2015 (512)": GOST R 34.10-2012 on id-tc26-gost-3410-12-512-paramSetA
    /// with Streebog-512.
    Gost2015,
    /// NCA's "GOST 34.310-2004": GOST R 34.10-2001 on the CryptoPro-A curve with GOST R 34.11-94
    /// and the id-GostR3411-94-TestParamSet S-boxes (zero IV).
    Gost2004,
}

impl Suite {
    /// The name NCA RK and its users know the algorithm by, as reports show it.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Gost2015 => "GOST 34.10-2015 (512)",
            Suite::Gost2004 => "GOST 34.310-2004",
        }
    }

    pub fn curve(self) -> &'static Curve {
        match self {
            Suite::Gost2015 => Curve::tc26_512_a(),
            Suite::Gost2004 => Curve::cryptopro_a(),
        }
    }

    /// Bytes of one coordinate, of the scalar, of r and of s.
    pub fn size(self) -> usize {
        self.curve().size
    }

    /// The digest this suite signs, as the hash function outputs it (read as little-endian by
    /// the signature).
    pub fn hash(self, message: &[u8]) -> Vec<u8> {
        match self {
            Suite::Gost2015 => super::streebog512(message).to_vec(),
            Suite::Gost2004 => super::gost94_test(message).to_vec(),
        }
    }

    /// Verifies r‖s (little-endian, `size` bytes each) over `message` under X‖Y (likewise).
    /// Wrong lengths give false.
    pub fn verify(self, public_key_xy_le: &[u8], message: &[u8], signature_rs_le: &[u8]) -> bool {
        self.curve()
            .verify_le(public_key_xy_le, &self.hash(message), signature_rs_le)
    }

    /// The X‖Y key from the contents of a SubjectPublicKeyInfo BIT STRING, which NCA fills with a
    /// DER OCTET STRING of 2·size bytes. None if it is not that.
    pub fn public_key_from_spki_bits(self, bits: &[u8]) -> Option<Vec<u8>> {
        use der::Decode as _;
        let octets = der::asn1::OctetStringRef::from_der(bits).ok()?;
        let key = octets.as_bytes();
        (key.len() == 2 * self.size()).then(|| key.to_vec())
    }
}
