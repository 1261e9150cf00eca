//! Unsigned LEB128 (Go's `binary.PutUvarint` / `binary.Uvarint`) and big-endian u64 helpers.

/// Appends `value` as a uvarint (1–10 bytes).
#[inline]
pub fn put_uvarint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// `value` as uvarint bytes on the stack: the bytes and how many are used.
#[inline]
pub fn uvarint_bytes(mut value: u64) -> ([u8; 10], usize) {
    let mut buf = [0u8; 10];
    let mut i = 0;
    while value >= 0x80 {
        buf[i] = (value as u8) | 0x80;
        value >>= 7;
        i += 1;
    }
    buf[i] = value as u8;
    (buf, i + 1)
}

/// Reads a uvarint at the start of `input`: the value and the bytes it took, or `None` when it
/// runs past the end or overflows 64 bits (Go's rules: at most 10 bytes, the 10th at most 1).
#[inline]
pub fn get_uvarint(input: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in input.iter().enumerate().take(10) {
        if byte < 0x80 {
            if i == 9 && byte > 1 {
                return None;
            }
            return Some((value | (u64::from(byte) << (7 * i)), i + 1));
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
    }
    None
}

/// Reads a big-endian u64 at `at`, or `None` when fewer than 8 bytes are left.
#[inline]
pub fn get_u64(input: &[u8], at: usize) -> Option<u64> {
    let bytes = input.get(at..at.checked_add(8)?)?;
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    Some(u64::from_be_bytes(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvarint_round_trips_and_rejects_overflow() {
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut buf = Vec::new();
            put_uvarint(&mut buf, v);
            assert_eq!(get_uvarint(&buf), Some((v, buf.len())));
            let (stack, used) = uvarint_bytes(v);
            assert_eq!(&stack[..used], &buf[..]);
            assert_eq!(get_uvarint(&buf[..buf.len() - 1]), None);
        }
        let mut max = Vec::new();
        put_uvarint(&mut max, u64::MAX);
        assert_eq!(
            max,
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
        max[9] = 2;
        assert_eq!(get_uvarint(&max), None);
        assert_eq!(get_uvarint(&[0x80; 11]), None);
    }
}
