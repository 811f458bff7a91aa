//! Payload encodings people type and read: hex and base64, both ways. Decoding errors are
//! sentences that say what is wrong with the input.

use base64::Engine as _;

/// Lowercase hex, two digits per byte, nothing between them.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Text that is not hex, said as a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadHex {
    #[error("{0:?} is not a hex digit")]
    Digit(char),
    #[error("the hex has an odd number of digits")]
    OddLength,
}

/// Text that is not base64, said as a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadBase64 {
    #[error("{0:?} is not a base64 character")]
    Character(char),
    #[error("the base64 is cut short (its length is not a whole number of bytes)")]
    CutShort,
    #[error("the base64 is malformed ({0})")]
    Malformed(String),
}

/// Hex digits to bytes; whitespace may separate them anywhere (`de ad be ef`, `deadbeef`).
pub fn decode_hex(h: &str) -> Result<Vec<u8>, BadHex> {
    let mut out = Vec::with_capacity(h.len() / 2);
    let mut high: Option<u8> = None;
    for c in h.chars().filter(|c| !c.is_whitespace()) {
        let Some(v) = c.to_digit(16) else {
            return Err(BadHex::Digit(c));
        };
        let v = v as u8;
        match high.take() {
            Some(hi) => out.push(hi << 4 | v),
            None => high = Some(v),
        }
    }
    if high.is_some() {
        return Err(BadHex::OddLength);
    }
    Ok(out)
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Base64 to bytes: the standard or the URL-safe alphabet, padded or not, whitespace ignored.
pub fn decode_base64(s: &str) -> Result<Vec<u8>, BadBase64> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let body = compact.trim_end_matches('=');
    STANDARD_NO_PAD
        .decode(body)
        .or_else(|_| URL_SAFE_NO_PAD.decode(body))
        .map_err(|e| match e {
            base64::DecodeError::InvalidByte(_, b) => BadBase64::Character(char::from(b)),
            base64::DecodeError::InvalidLength(_)
            | base64::DecodeError::InvalidLastSymbol { .. } => BadBase64::CutShort,
            other => BadBase64::Malformed(other.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_with_spaces_and_says_what_is_wrong() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f, 0xff]), "00ab7fff");
        assert_eq!(decode_hex("de ad BE ef").unwrap(), [0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(decode_hex("").unwrap(), Vec::<u8>::new());
        assert_eq!(
            decode_hex("abc").unwrap_err().to_string(),
            "the hex has an odd number of digits"
        );
        assert_eq!(
            decode_hex("zz").unwrap_err().to_string(),
            "'z' is not a hex digit"
        );
        // Multi-byte characters are refused, never sliced.
        assert_eq!(
            decode_hex("aé1").unwrap_err().to_string(),
            "'é' is not a hex digit"
        );
    }

    #[test]
    fn base64_takes_both_alphabets_padded_or_not() {
        assert_eq!(base64(&[0xde, 0xad, 0xbe, 0xef]), "3q2+7w==");
        for s in ["3q2+7w==", "3q2+7w", "3q2-7w", " 3q2+\n7w== "] {
            assert_eq!(decode_base64(s).unwrap(), [0xde, 0xad, 0xbe, 0xef], "{s}");
        }
        assert_eq!(
            decode_base64("3q*").unwrap_err().to_string(),
            "'*' is not a base64 character"
        );
        assert!(
            decode_base64("3")
                .unwrap_err()
                .to_string()
                .contains("cut short")
        );
    }
}
