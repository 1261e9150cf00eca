//! The `index.grid` reader past its checksums: the input's section and file CRCs and the trailer
//! are recomputed before reading, so mutations reach the structural and consistency checks.
//! Never panics; whatever is accepted rewrites byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmdb_index_grid::{Expr, Index};

/// Rewrites section CRCs, the trailer and the file CRC of a framed image (header 16 bytes,
/// sections `type u8 · len u64 · body · crc u32`, trailer 24 bytes).
fn fix_checksums(data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < 40 {
        return None;
    }
    let mut out = data[..data.len() - 24].to_vec();
    let mut pos = 16;
    let mut sections = 0u32;
    while pos < out.len() {
        if out.len() - pos < 13 {
            return None;
        }
        let len = u64::from_le_bytes(out[pos + 1..pos + 9].try_into().ok()?) as usize;
        let end = pos.checked_add(9)?.checked_add(len)?;
        if end.checked_add(4)? > out.len() {
            return None;
        }
        let crc = crc32fast::hash(&out[pos..end]);
        out[end..end + 4].copy_from_slice(&crc.to_le_bytes());
        pos = end + 4;
        sections += 1;
    }
    let crc = crc32fast::hash(&out);
    let total = (out.len() + 24) as u64;
    out.extend_from_slice(&sections.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(b"GRDEND01");
    Some(out)
}

/// An accepted image rewrites byte for byte — in the current version (3). An older image
/// (version 1 or 2) is rewritten as version 3, which must read back and rewrite identically.
fn check_rewrite(ix: &Index, data: &[u8]) {
    let again = ix.to_bytes();
    if data.get(8..10) == Some(&[3, 0][..]) {
        assert_eq!(again, data, "accepted file does not rewrite identically");
    } else {
        let back = Index::from_bytes(&again).expect("a rewritten older image reads back");
        assert_eq!(back.to_bytes(), again, "rewritten older image is not stable");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(fixed) = fix_checksums(data) else {
        return;
    };
    if let Ok(ix) = Index::from_bytes(&fixed) {
        check_rewrite(&ix, &fixed);
        for m in ix.measurements() {
            for id in ix.query(&m, &Expr::all()).iter().take(64) {
                let k = ix.tags_of(id).expect("listed ids are live");
                let t: Vec<(&[u8], &[u8])> = k.tags.iter().map(|(a, b)| (&a[..], &b[..])).collect();
                assert_eq!(ix.lookup(&m, &t).ok().flatten(), Some(id));
            }
            for key in ix.tag_keys(&m) {
                let _ = ix.query(&m, &Expr::regex(key.clone(), "^1").expect("valid"));
                let _ = ix.query(&m, &Expr::neq(key, b"x".to_vec()));
            }
            // inserting into a loaded index must keep working
            let _ = ix.insert(&m, &[(b"fuzz", b"1")]);
        }
    }
});
