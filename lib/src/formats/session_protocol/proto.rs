//! A tiny protobuf (proto2) wire codec: varints and length-delimited fields, just enough for the
//! few messages of session-protocol.md §4. The reader is bounded by
//! [`SESSION_MAX_MESSAGE_BYTES`], skips unknown fields of the four defined wire types, refuses
//! groups, and never panics on any input.

use super::error::ProtoError;
use crate::formats::limits::SESSION_MAX_MESSAGE_BYTES;

const WT_VARINT: u8 = 0;
const WT_I64: u8 = 1;
const WT_LEN: u8 = 2;
const WT_I32: u8 = 5;
/// Largest field number protobuf allows (2^29 - 1).
const MAX_FIELD: u64 = (1 << 29) - 1;
/// A u64 varint is at most 10 bytes.
const MAX_VARINT_BYTES: usize = 10;

// ---- writing -------------------------------------------------------------------------------

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_key(out: &mut Vec<u8>, field: u32, wire_type: u8) {
    put_varint(out, (u64::from(field) << 3) | u64::from(wire_type));
}

/// A varint field (uint32, uint64, enum, bool).
pub(crate) fn put_uint(out: &mut Vec<u8>, field: u32, v: u64) {
    put_key(out, field, WT_VARINT);
    put_varint(out, v);
}

/// A length-delimited field (bytes, string, embedded message).
pub(crate) fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(out, field, WT_LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

// ---- reading -------------------------------------------------------------------------------

/// One field's value as the wire gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// The name of a field, for errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Name {
    pub message: &'static str,
    pub field: &'static str,
}

impl<'a> Value<'a> {
    pub(crate) fn varint(self, name: Name) -> Result<u64, ProtoError> {
        match self {
            Value::Varint(v) => Ok(v),
            _ => Err(ProtoError::WrongWireType { message: name.message, field: name.field }),
        }
    }

    pub(crate) fn uint32(self, name: Name) -> Result<u32, ProtoError> {
        u32::try_from(self.varint(name)?)
            .map_err(|_| ProtoError::ValueOutOfRange { message: name.message, field: name.field })
    }

    pub(crate) fn bytes(self, name: Name) -> Result<&'a [u8], ProtoError> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => Err(ProtoError::WrongWireType { message: name.message, field: name.field }),
        }
    }

    pub(crate) fn string(self, name: Name) -> Result<String, ProtoError> {
        let raw = self.bytes(name)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| ProtoError::NotUtf8 { message: name.message, field: name.field })
    }
}

/// Reads the fields of one message, in wire order.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, refused when it is larger than any message this module reads.
    pub(crate) fn new(buf: &'a [u8]) -> Result<Self, ProtoError> {
        if buf.len() > SESSION_MAX_MESSAGE_BYTES {
            return Err(ProtoError::TooLarge(buf.len()));
        }
        Ok(Self { rest: buf })
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut v: u64 = 0;
        for i in 0..MAX_VARINT_BYTES {
            let (&b, rest) = self.rest.split_first().ok_or(ProtoError::Truncated)?;
            self.rest = rest;
            // The 10th byte holds bit 63 only.
            if i == MAX_VARINT_BYTES - 1 && b > 1 {
                return Err(ProtoError::VarintOverflow);
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ProtoError::VarintOverflow)
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], ProtoError> {
        let left = self.rest.len();
        let n = usize::try_from(len).map_err(|_| ProtoError::LengthOutOfBounds { len, left })?;
        let (head, tail) =
            self.rest.split_at_checked(n).ok_or(ProtoError::LengthOutOfBounds { len, left })?;
        self.rest = tail;
        Ok(head)
    }

    /// The next field (number and value), or `None` at the end of the message.
    pub(crate) fn field(&mut self) -> Result<Option<(u32, Value<'a>)>, ProtoError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 || number > MAX_FIELD {
            return Err(ProtoError::FieldNumber(number));
        }
        // MAX_FIELD < 2^32, so the number fits a u32.
        let number = u32::try_from(number).map_err(|_| ProtoError::FieldNumber(number))?;
        let wire_type = (key & 7) as u8;
        let value = match wire_type {
            WT_VARINT => Value::Varint(self.varint()?),
            WT_I64 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Fixed64(u64::from_le_bytes(a))
            }
            WT_LEN => {
                let len = self.varint()?;
                Value::Bytes(self.take(len)?)
            }
            WT_I32 => {
                let b = self.take(4)?;
                let mut a = [0u8; 4];
                a.copy_from_slice(b);
                Value::Fixed32(u32::from_le_bytes(a))
            }
            other => return Err(ProtoError::WireType(other)),
        };
        Ok(Some((number, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(buf: &[u8]) -> Result<Vec<(u32, Value<'_>)>, ProtoError> {
        let mut r = Reader::new(buf)?;
        let mut out = Vec::new();
        while let Some(f) = r.field()? {
            out.push(f);
        }
        Ok(out)
    }

    #[test]
    fn varints_round_trip_at_the_edges() {
        for v in [0u64, 1, 127, 128, 300, 16_383, 16_384, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            let mut out = Vec::new();
            put_uint(&mut out, 5, v);
            assert_eq!(read_all(&out).unwrap(), vec![(5, Value::Varint(v))]);
        }
        // The canonical example of the protobuf docs: field 1 = 150.
        let mut out = Vec::new();
        put_uint(&mut out, 1, 150);
        assert_eq!(out, [0x08, 0x96, 0x01]);
    }

    #[test]
    fn wire_rules() {
        assert_eq!(read_all(&[0x08]), Err(ProtoError::Truncated));
        assert_eq!(read_all(&[0x08, 0x80]), Err(ProtoError::Truncated));
        let mut eleven = vec![0x08];
        eleven.extend([0xff; 10]);
        eleven.push(0x01);
        assert_eq!(read_all(&eleven), Err(ProtoError::VarintOverflow));
        let mut tenth_too_big = vec![0x08];
        tenth_too_big.extend([0xff; 9]);
        tenth_too_big.push(0x02);
        assert_eq!(read_all(&tenth_too_big), Err(ProtoError::VarintOverflow));
        assert_eq!(read_all(&[0x00, 0x00]), Err(ProtoError::FieldNumber(0)));
        assert_eq!(read_all(&[0x0b]), Err(ProtoError::WireType(3)));
        assert_eq!(read_all(&[0x0e]), Err(ProtoError::WireType(6)));
        assert_eq!(read_all(&[0x0a, 0x05, 1, 2]), Err(ProtoError::LengthOutOfBounds { len: 5, left: 2 }));
        assert_eq!(read_all(&[0x09, 1, 2, 3]), Err(ProtoError::LengthOutOfBounds { len: 8, left: 3 }));
        assert_eq!(
            read_all(&vec![0u8; SESSION_MAX_MESSAGE_BYTES + 1]).unwrap_err(),
            ProtoError::TooLarge(76_801)
        );
        // Fixed-width fields are read (and skipped by the messages here).
        assert_eq!(
            read_all(&[0x09, 1, 0, 0, 0, 0, 0, 0, 0, 0x15, 2, 0, 0, 0]).unwrap(),
            vec![(1, Value::Fixed64(1)), (2, Value::Fixed32(2))]
        );
        assert_eq!(read_all(&[]).unwrap(), vec![]);
    }
}
