//! Vectors from spec §4.9 and hashes of long streams produced by Go 1.19's `math/rand`.

use super::*;

fn int63s(seed: i64, n: usize) -> Vec<i64> {
    let mut r = GoRand::new(seed);
    (0..n).map(|_| r.int63()).collect()
}

#[test]
fn int63_streams_match_go() {
    assert_eq!(
        int63s(0, 5),
        [
            8717895732742165505,
            2259404117704393152,
            6050128673802995827,
            501233450539197794,
            3390393562759376202
        ]
    );
    assert_eq!(int63s(89_482_311, 5), int63s(0, 5));
    assert_eq!(
        int63s(1, 5),
        [
            5577006791947779410,
            8674665223082153551,
            6129484611666145821,
            4037200794235010051,
            3916589616287113937
        ]
    );
    assert_eq!(
        int63s(10, 5),
        [
            5221277731205826435,
            3852159813000522384,
            8532807521486154107,
            3888302351045490779,
            4512466281294657143
        ]
    );
    assert_eq!(
        int63s(1 << 61, 5),
        [
            2971880960120995431,
            2239658502433889567,
            1592966593366988099,
            7661700707037246788,
            4854203087512630396
        ]
    );
    assert_eq!(
        int63s(1 << 60, 5),
        [
            1761930066231862070,
            7617482963457843543,
            5893402055615217172,
            7185388591627436439,
            8891549645568820073
        ]
    );
}

#[test]
fn float64_streams_match_go() {
    let mut r = GoRand::new(10);
    let got: Vec<f64> = (0..8).map(|_| r.float64()).collect();
    assert_eq!(
        got,
        [
            0.5660920659323543,
            0.41765200380165207,
            0.925128845219594,
            0.42157058562840155,
            0.48924257454472525,
            0.9167074899036827,
            0.36832994780378014,
            0.7434673863639695
        ]
    );
    let mut r = GoRand::new(1);
    let got: Vec<f64> = (0..3).map(|_| r.float64()).collect();
    assert_eq!(
        got,
        [0.6046602879796196, 0.9405090880450124, 0.6645600532184904]
    );
    let mut r = GoRand::new(0);
    let got: Vec<f64> = (0..4).map(|_| (50.1 - 0.5) * r.float64() + 0.5).collect();
    assert_eq!(
        got,
        [
            47.38172900498817,
            12.650268230571475,
            33.0354307536921,
            3.1954544441451396
        ]
    );
}

/// h = h·31 + x over a stream, as the Go program that produced the expected hashes did.
fn hash(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0u64, |h, x| h.wrapping_mul(31).wrapping_add(x))
}

#[test]
fn long_float64_stream_matches_go() {
    let mut r = GoRand::new(123_456_789);
    let h = hash((0..100_000).map(|_| r.float64().to_bits()));
    assert_eq!(h, 2919740191628131639);
}

#[test]
fn bounded_integers_match_go() {
    let mut r = GoRand::new(99);
    let mut s = 0u64;
    for _ in 0..1000 {
        let a = r.intn(9) as u64;
        let b = r.int63n(100) as u64;
        let c = r.int31n(1000) as u64;
        let d = r.intn(1 << 20) as u64;
        s = s
            .wrapping_mul(31)
            .wrapping_add(a)
            .wrapping_add(b.wrapping_mul(7))
            .wrapping_add(c.wrapping_mul(13))
            .wrapping_add(d);
    }
    assert_eq!(s, 17398530171597196829);
}

#[test]
fn norm_float64_matches_go() {
    let mut r = GoRand::new(7);
    let h = hash((0..200_000).map(|_| r.norm_float64().to_bits()));
    assert_eq!(h, 13162250266673963423);
}

#[test]
fn zipf_matches_go() {
    let z = Zipf::new(2.0, 1.0, 10).unwrap();
    let mut r = GoRand::new(0);
    let got: Vec<u64> = (0..12).map(|_| z.sample(&mut r)).collect();
    assert_eq!(got, [0, 1, 0, 5, 0, 1, 2, 0, 0, 2, 1, 0]);

    let z = Zipf::new(1.1, 1.0, 1000).unwrap();
    let mut r = GoRand::new(10);
    let got: Vec<u64> = (0..10).map(|_| z.sample(&mut r)).collect();
    assert_eq!(got, [6, 21, 0, 20, 12, 0, 31, 1, 0, 742]);

    let z = Zipf::new(1.3, 2.5, 100_000).unwrap();
    let mut r = GoRand::new(3);
    assert_eq!(
        hash((0..100_000).map(|_| z.sample(&mut r))),
        10803020871311062642
    );

    let z = Zipf::new(3.7, 1.0, 50).unwrap();
    let mut r = GoRand::new(-5);
    assert_eq!(
        hash((0..100_000).map(|_| z.sample(&mut r))),
        17003867544347386692
    );
}

#[test]
fn zipf_rejects_invalid_parameters() {
    assert!(Zipf::new(1.0, 1.0, 10).is_none());
    assert!(Zipf::new(2.0, 0.5, 10).is_none());
    assert!(Zipf::new(f64::NAN, 1.0, 10).is_none());
}
