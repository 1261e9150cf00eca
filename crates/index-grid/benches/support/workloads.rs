//! The report's workloads (spec §7.1) and query sets, shared by `benches/report.rs` and
//! `examples/profile.rs` so a profile runs exactly what the report measures.
#![allow(dead_code)] // each includer uses its own part

use tsmdb_index_grid::Expr;

/// xorshift64*: a fixed-seed generator; each tag set is built from fresh buffers.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub type Series = Vec<(Vec<u8>, Vec<u8>)>;

pub fn key(i: usize) -> Vec<u8> {
    vec![b'a' + i as u8]
}

pub fn full_perm(n: usize, m: usize) -> Vec<Series> {
    let total = m.pow(n as u32);
    (0..total)
        .map(|mut i| {
            let mut d = vec![0; n];
            for x in d.iter_mut().rev() {
                *x = i % m;
                i /= m;
            }
            d.iter()
                .enumerate()
                .map(|(k, v)| (key(k), v.to_string().into_bytes()))
                .collect()
        })
        .collect()
}

pub fn diagonal(n: usize, m: usize) -> Vec<Series> {
    (0..m)
        .map(|i| {
            (0..n)
                .map(|k| (key(k), i.to_string().into_bytes()))
                .collect()
        })
        .collect()
}

pub fn random_partial(count: usize, n: usize, m: u64, rng: &mut Rng) -> Vec<Series> {
    (0..count)
        .map(|_| {
            loop {
                let s: Series = (0..n)
                    .filter_map(|k| {
                        let v = rng.below(m + 1);
                        (v < m).then(|| (key(k), v.to_string().into_bytes()))
                    })
                    .collect();
                if !s.is_empty() {
                    break s;
                }
            }
        })
        .collect()
}

pub fn uuid_like(count: usize, rng: &mut Rng) -> Vec<Series> {
    (0..count)
        .map(|i| {
            let u = format!("{:016x}-{:016x}", rng.next(), rng.next());
            vec![
                (b"dc".to_vec(), format!("dc{}", i % 3).into_bytes()),
                (b"region".to_vec(), format!("region{}", i % 10).into_bytes()),
                (b"uuid".to_vec(), u.into_bytes()),
            ]
        })
        .collect()
}

pub fn tsbs(hosts: usize, rng: &mut Rng) -> Vec<Series> {
    const REGIONS: [(&str, &str); 9] = [
        ("us-east-1", "abce"),
        ("us-west-1", "ab"),
        ("us-west-2", "abc"),
        ("eu-west-1", "abc"),
        ("eu-central-1", "ab"),
        ("ap-southeast-1", "ab"),
        ("ap-southeast-2", "ab"),
        ("ap-northeast-1", "ac"),
        ("sa-east-1", "abc"),
    ];
    const OS: [&str; 3] = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
    const ARCH: [&str; 2] = ["x64", "x86"];
    const TEAM: [&str; 4] = ["SF", "NYC", "LON", "CHI"];
    const ENV: [&str; 3] = ["production", "staging", "test"];
    (0..hosts)
        .map(|i| {
            let (region, letters) = REGIONS[rng.below(9) as usize];
            let dc = letters.as_bytes()[rng.below(letters.len() as u64) as usize] as char;
            let t = |k: &str, v: String| (k.as_bytes().to_vec(), v.into_bytes());
            let mut s = vec![
                t("hostname", format!("host_{i}")),
                t("region", region.into()),
                t("datacenter", format!("{region}{dc}")),
                t("rack", rng.below(100).to_string()),
                t("arch", ARCH[rng.below(2) as usize].into()),
                t("os", OS[rng.below(3) as usize].into()),
                t("service", rng.below(20).to_string()),
                t("service_version", rng.below(2).to_string()),
                t("service_environment", ENV[rng.below(3) as usize].into()),
                t("team", TEAM[rng.below(4) as usize].into()),
            ];
            s.sort();
            s
        })
        .collect()
}

/// A tag set as borrowed pairs.
pub type TagRefs<'a> = Vec<(&'a [u8], &'a [u8])>;

pub fn refs(s: &Series) -> Vec<(&[u8], &[u8])> {
    s.iter().map(|(k, v)| (&k[..], &v[..])).collect()
}

pub fn queries(data: &[Series], class: &str, n: usize, rng: &mut Rng) -> Vec<Expr> {
    (0..n)
        .map(|_| {
            let s = &data[rng.below(data.len() as u64) as usize];
            let a = &s[rng.below(s.len() as u64) as usize];
            match class {
                "one-tag" => Expr::eq(a.0.clone(), a.1.clone()),
                "two-tag" => {
                    let b = &s[rng.below(s.len() as u64) as usize];
                    Expr::And(vec![
                        Expr::eq(a.0.clone(), a.1.clone()),
                        Expr::eq(b.0.clone(), b.1.clone()),
                    ])
                }
                _ => {
                    let first = String::from_utf8_lossy(&a.1[..1]).into_owned();
                    Expr::regex(a.0.clone(), &format!("^{}", regex_escape(&first))).expect("valid")
                }
            }
        })
        .collect()
}

pub fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}
