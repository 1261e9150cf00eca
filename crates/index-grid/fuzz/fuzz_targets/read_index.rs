//! The `index.grid` reader on arbitrary bytes: never panics; whatever it accepts must survive a
//! rewrite byte for byte and answer queries without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmdb_index_grid::{Expr, Index};

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
    if let Ok(ix) = Index::from_bytes(data) {
        check_rewrite(&ix, &data);
        for m in ix.measurements() {
            let all = ix.query(&m, &Expr::all());
            for id in all.iter().take(64) {
                let k = ix.tags_of(id).expect("listed ids are live");
                let t: Vec<(&[u8], &[u8])> = k.tags.iter().map(|(a, b)| (&a[..], &b[..])).collect();
                assert_eq!(ix.lookup(&m, &t).ok().flatten(), Some(id));
            }
            for key in ix.tag_keys(&m) {
                let _ = ix.query(&m, &Expr::exists(key.clone()));
                let _ = ix.query(&m, &Expr::neq(key, b"x".to_vec()));
            }
        }
    }
});
