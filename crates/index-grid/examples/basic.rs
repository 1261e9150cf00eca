//! Build an index, query it, persist it, and reopen it. Run with
//! `cargo run -p tsmdb-index-grid --example basic [DIR]`; with DIR, the index is kept there.

use tsmdb_index_grid::{Expr, Index, Policy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = match std::env::args().nth(1) {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir().join(format!("tsmdb-index-example-{}", std::process::id())),
    };
    let (index, _) = Index::open(&dir, Policy::default())?;
    for i in 0..1000 {
        let host = format!("host_{i}");
        let region = format!("region{}", i % 4);
        index.insert(
            b"cpu",
            &[(b"host", host.as_bytes()), (b"region", region.as_bytes())],
        )?;
    }
    let west = index.query(b"cpu", &Expr::eq("region", "region1"));
    println!("region1: {} series", west.len());
    let id = west.iter().next().ok_or("no series")?;
    println!("first: {id} = {:?}", index.tags_of(id));
    index.checkpoint()?;
    drop(index);
    let (again, report) = Index::open(&dir, Policy::default())?;
    println!("reopened: {} series, {report:?}", again.len());
    assert_eq!(again.query(b"cpu", &Expr::eq("region", "region1")), west);
    Ok(())
}
