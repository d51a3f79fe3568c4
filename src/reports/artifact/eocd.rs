//! The entry count a zip archive declares in its end-of-central-directory record (or its zip64
//! record), read before the central directory itself is parsed: an archive of millions of
//! bare directory records is refused by its count, not after building a table of them.

use std::io::{Read, Seek, SeekFrom};

/// The record's signature, `PK\x05\x06`.
const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
/// The zip64 record's locator, `PK\x06\x07`.
const ZIP64_LOCATOR: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
/// The zip64 record, `PK\x06\x06`.
const ZIP64_EOCD: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
/// The record without its comment.
const EOCD_LEN: u64 = 22;
/// The longest comment a record may carry.
const MAX_COMMENT: u64 = 0xffff;

/// The number of entries the archive of `size` bytes declares.
pub fn entries<R: Read + Seek>(archive: &mut R, size: u64) -> Result<u64, String> {
    let tail_len = size.min(EOCD_LEN + MAX_COMMENT);
    let tail_start = size - tail_len;
    let tail = read_at(archive, tail_start, tail_len)?;
    let at = (0..tail.len().saturating_sub(EOCD_LEN as usize - 1))
        .rev()
        .find(|&i| tail[i..i + 4] == EOCD)
        .ok_or("no end-of-central-directory record (not a zip archive)")?;
    let total = u64::from(u16::from_le_bytes([tail[at + 10], tail[at + 11]]));
    // A zip64 archive's locator stands just before the record.
    let locator = (tail_start + at as u64).checked_sub(20);
    if let Some(locator) = locator {
        let bytes = read_at(archive, locator, 20)?;
        if bytes[..4] == ZIP64_LOCATOR {
            let offset = u64::from_le_bytes(slice8(&bytes[8..16]));
            let record = read_at(archive, offset, 56)?;
            if record[..4] != ZIP64_EOCD {
                return Err("a damaged zip64 end-of-central-directory record".into());
            }
            return Ok(u64::from_le_bytes(slice8(&record[32..40])));
        }
    }
    Ok(total)
}

fn slice8(bytes: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&bytes[..8]);
    out
}

fn read_at<R: Read + Seek>(archive: &mut R, at: u64, len: u64) -> Result<Vec<u8>, String> {
    archive
        .seek(SeekFrom::Start(at))
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    archive
        .take(len)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if (buf.len() as u64) < len {
        return Err("the archive ends early".into());
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::entries;
    use std::io::{Cursor, Write};

    fn zip_with(names: usize) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..names {
            zip.start_file(format!("f{i}"), zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(b"x").unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn the_declared_entry_count_is_read_from_the_end() {
        for n in [0, 1, 7, 300] {
            let bytes = zip_with(n);
            let size = bytes.len() as u64;
            assert_eq!(entries(&mut Cursor::new(bytes), size), Ok(n as u64));
        }
    }

    #[test]
    fn a_record_claiming_millions_is_seen_without_parsing_a_directory() {
        // An end record alone that declares 65,535 entries (the zip64 marker is absent).
        let mut record = vec![0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0xff, 0xfe, 0xff, 0xfe];
        record.extend([0u8; 10]);
        let size = record.len() as u64;
        assert_eq!(entries(&mut Cursor::new(record), size), Ok(0xfeff));
    }

    #[test]
    fn bytes_that_are_not_a_zip_archive_are_refused() {
        let junk = b"definitely not a zip archive".to_vec();
        let size = junk.len() as u64;
        assert!(entries(&mut Cursor::new(junk), size).is_err());
        assert!(entries(&mut Cursor::new(Vec::new()), 0).is_err());
    }
}
