//! Attachments: how the live Session apps encrypt a file before it goes to the file server, and
//! how a message points at it (spec attachments.md). Pure formats over `std::io::Read`/`Write`:
//! no file is opened here, so a command can stream a file of any size through them.
//!
//! - [`stream`]: the 'S' format every app writes today (libsodium secretstream, deterministic
//!   key, padded to a size bucket).
//! - [`legacy`]: the AES-256-CBC + HMAC-SHA256 format written 2020–2025, still to be read.
//! - [`profile`]: old AES-256-GCM profile pictures.
//! - [`pointer`](mod@pointer): the `AttachmentPointer` a message carries and the download URL that tells a
//!   reader which of the formats above a blob is in.
//!
//! What protects a file is the key: it travels only inside the end-to-end-encrypted message.
//! The file server holds ciphertext under an unguessable id that expires (docs/attachments.md).

pub mod legacy;
pub mod pointer;
pub mod profile;
pub mod stream;

use std::io::{self, Read};

/// Reads until `buf` is full or the input ends; returns how many bytes were read. Unlike
/// `read_exact`, a short input is not an error: the formats decide what a short read means.
fn read_full<R: Read + ?Sized>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Whether the input has no byte left (reads at most one byte).
fn at_end<R: Read + ?Sized>(input: &mut R) -> io::Result<bool> {
    let mut one = [0u8; 1];
    Ok(read_full(input, &mut one)? == 0)
}
