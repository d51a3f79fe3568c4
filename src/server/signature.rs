//! `X-Hub-Signature-256` verification: HMAC-SHA256 of the raw body, compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Whether `header` (`sha256=<64 lowercase or uppercase hex>`) is the HMAC-SHA256 of `body`
/// under `secret`. A missing prefix, a `sha1=` signature or bad hex is simply not valid.
pub fn is_valid(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected).is_ok()
}

/// The signature GitHub would send for `body` (tests and benchmarks sign with it).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"It's a Secret to Everybody";
    const VECTOR: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn githubs_documented_vector_verifies() {
        assert_eq!(sign(SECRET, b"Hello, World!"), VECTOR);
        assert!(is_valid(SECRET, b"Hello, World!", VECTOR));
    }

    #[test]
    fn anything_else_does_not() {
        assert!(!is_valid(SECRET, b"Hello, World?", VECTOR));
        assert!(!is_valid(b"another secret", b"Hello, World!", VECTOR));
        assert!(
            !is_valid(SECRET, b"Hello, World!", &VECTOR[7..]),
            "no prefix"
        );
        assert!(!is_valid(
            SECRET,
            b"Hello, World!",
            "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"
        ));
        assert!(
            !is_valid(SECRET, b"Hello, World!", &VECTOR[..VECTOR.len() - 2]),
            "truncated"
        );
        assert!(!is_valid(SECRET, b"Hello, World!", "sha256=zz"));
        assert!(!is_valid(SECRET, b"Hello, World!", ""));
    }
}
