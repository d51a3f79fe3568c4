//! Parsers for the reports a CI run produces, and the values they produce.
//!
//! One module per format. Every parser is size-limited and never panics: a bad line becomes a
//! diagnostic and parsing goes on; a file that cannot be used at all is a [`ReportError`].
//! Parsers read from a [`std::io::Read`] or [`std::io::BufRead`] the shell hands them; they
//! never open anything.

pub mod bench;
pub mod cobertura;
pub mod coverage;
pub mod lcov;
pub mod sarif;

mod bounded;

pub use bounded::Bounded;

/// Why a report could not be used at all.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The input is larger than the limit for its kind.
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Which kind of report.
        what: &'static str,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The input is not in the expected format.
    #[error("not a valid {format} report: {reason}")]
    Invalid {
        /// The format that was expected.
        format: &'static str,
        /// What is wrong, with a line or position where known.
        reason: String,
    },
    /// The reader failed.
    #[error("could not read the report: {0}")]
    Io(std::io::Error),
}

impl ReportError {
    pub(crate) fn invalid(format: &'static str, reason: impl Into<String>) -> Self {
        ReportError::Invalid {
            format,
            reason: reason.into(),
        }
    }

    /// Maps a read error, turning the size guard's error into [`ReportError::TooLarge`].
    pub(crate) fn from_io(err: std::io::Error, what: &'static str, limit: u64) -> Self {
        if bounded::is_over_limit(&err) {
            ReportError::TooLarge { what, limit }
        } else {
            ReportError::Io(err)
        }
    }
}

/// Reads everything from `reader`, failing once more than `limit` bytes arrive.
pub(crate) fn read_all(
    reader: impl std::io::Read,
    what: &'static str,
    limit: u64,
) -> Result<Vec<u8>, ReportError> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut Bounded::new(reader, limit), &mut bytes)
        .map_err(|e| ReportError::from_io(e, what, limit))?;
    Ok(bytes)
}

/// The UTF-8 byte-order mark some Windows tools write first.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// `bytes` without a leading UTF-8 byte-order mark (RFC 8259 lets a JSON parser ignore one).
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}
