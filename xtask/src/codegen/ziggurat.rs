//! The ziggurat tables of `NormFloat64` (`crates/datagen/src/gorand/ziggurat.rs`).
//!
//! Go's `math/rand` v1 samples normal variates with Marsaglia & Tsang's ziggurat ("The Ziggurat
//! Method for Generating Random Variables", 2000) and 384 table entries. They all follow from
//! three numbers by the paper's set-up recurrence: the rightmost layer's start `r`, the common
//! layer area `v` and the integer scale 2^31. Computing them here (in f64, then rounded to the
//! stored u32/f32 exactly as the paper's set-up does) gives Go's tables bit for bit, so the
//! file shows where every constant comes from instead of asking a reviewer to trust a copy.
//! `gorand`'s tests compare 200,000 draws with Go's output, so a drifting table cannot go
//! unnoticed either.

use std::fmt::Write;

/// Start of the base strip's tail.
const R: f64 = 3.442619855899;
/// Area of every layer.
const V: f64 = 9.91256303526217e-3;
/// Scale of the 32-bit draws (`j` is a signed 32-bit value).
const M1: f64 = 2_147_483_648.0;

struct Tables {
    kn: [u32; 128],
    wn: [f32; 128],
    fn_: [f32; 128],
}

fn tables() -> Tables {
    let mut t = Tables {
        kn: [0; 128],
        wn: [0.0; 128],
        fn_: [0.0; 128],
    };
    let density = |x: f64| (-0.5 * x * x).exp();
    let mut dn = R;
    let mut tn = dn;
    let q = V / density(dn);
    // The casts truncate toward zero, as the C set-up code does.
    t.kn[0] = ((dn / q) * M1) as u32;
    t.kn[1] = 0;
    t.wn[0] = (q / M1) as f32;
    t.wn[127] = (dn / M1) as f32;
    t.fn_[0] = 1.0;
    t.fn_[127] = density(dn) as f32;
    for i in (1..=126).rev() {
        dn = (-2.0 * (V / dn + density(dn)).ln()).sqrt();
        t.kn[i + 1] = ((dn / tn) * M1) as u32;
        tn = dn;
        t.fn_[i] = density(dn) as f32;
        t.wn[i] = (dn / M1) as f32;
    }
    t
}

fn array<T>(
    out: &mut String,
    doc: &str,
    name: &str,
    ty: &str,
    values: &[T],
    fmt: fn(&T) -> String,
) {
    let _ = writeln!(out, "\n/// {doc}");
    out.push_str("#[rustfmt::skip]\n");
    if ty == "f32" {
        out.push_str("#[allow(clippy::excessive_precision, clippy::approx_constant)]\n");
    }
    let _ = writeln!(out, "pub(super) const {name}: [{ty}; {}] = [", values.len());
    for row in values.chunks(4) {
        let cells: Vec<String> = row.iter().map(fmt).collect();
        let _ = writeln!(out, "    {},", cells.join(", "));
    }
    out.push_str("];\n");
}

/// The file's contents.
pub fn render() -> String {
    let t = tables();
    let mut out = String::from(super::HEADER);
    out.push_str(
        "//! The ziggurat tables of `NormFloat64`: Go's `kn`, `wn` and `fn` of\n\
         //! `src/math/rand/normal.go`, computed by `xtask/src/codegen/ziggurat.rs` from the three\n\
         //! constants of Marsaglia & Tsang's set-up (see there) and equal to Go's bit for bit.\n",
    );
    array(
        &mut out,
        "Go's `kn`: `j` below `KN[i]` is inside layer `i`'s rectangle.",
        "KN",
        "u32",
        &t.kn,
        |v| format!("{v:#x}"),
    );
    array(
        &mut out,
        "Go's `wn`: layer `i`'s width over 2^31.",
        "WN",
        "f32",
        &t.wn,
        |v| format!("{v:?}"),
    );
    array(
        &mut out,
        "Go's `fn`: the density at layer `i`'s edge.",
        "FN",
        "f32",
        &t.fn_,
        |v| format!("{v:?}"),
    );
    out
}
