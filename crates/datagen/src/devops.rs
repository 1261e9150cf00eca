//! The TSBS devops `cpu-only` data set (spec Part B §6): one `cpu` row per host per interval,
//! byte-identical to `tsbs_generate_data --use-case=cpu-only --format=influx`.

use std::io::{self, Write};

use crate::gorand::GoRand;
use crate::lp::push_i64;

/// Regions and the datacenter letters of each, in TSBS order.
const REGIONS: [(&str, &[&str]); 9] = [
    ("us-east-1", &["a", "b", "c", "e"]),
    ("us-west-1", &["a", "b"]),
    ("us-west-2", &["a", "b", "c"]),
    ("eu-west-1", &["a", "b", "c"]),
    ("eu-central-1", &["a", "b"]),
    ("ap-southeast-1", &["a", "b"]),
    ("ap-southeast-2", &["a", "b"]),
    ("ap-northeast-1", &["a", "c"]),
    ("sa-east-1", &["a", "b", "c"]),
];
const OSES: [&str; 3] = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
const ARCHES: [&str; 2] = ["x64", "x86"];
const TEAMS: [&str; 4] = ["SF", "NYC", "LON", "CHI"];
const ENVIRONMENTS: [&str; 3] = ["production", "staging", "test"];

/// The tag keys of a `cpu` row, in line order.
pub const TAG_KEYS: [&str; 10] = [
    "hostname",
    "region",
    "datacenter",
    "rack",
    "os",
    "arch",
    "team",
    "service",
    "service_version",
    "service_environment",
];

/// The fields of a `cpu` row, in line order.
pub const CPU_FIELDS: [&str; 10] = [
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
];

/// Flags of `tsbs_generate_data` that shape the data (spec §6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevopsConfig {
    /// Number of hosts.
    pub scale: u64,
    /// Hosts active at the first epoch (0 = all).
    pub initial_scale: u64,
    /// First timestamp, Unix ns.
    pub start: i64,
    /// End (exclusive), Unix ns.
    pub end: i64,
    /// Spacing, ns.
    pub interval: i64,
    /// Seed of Go's global source.
    pub seed: i64,
    /// Most rows written (0 = unlimited).
    pub max_rows: u64,
}

impl Default for DevopsConfig {
    fn default() -> Self {
        DevopsConfig {
            scale: 1,
            initial_scale: 0,
            start: 1_451_606_400_000_000_000,
            end: 1_451_692_800_000_000_000,
            interval: 10_000_000_000,
            seed: 0,
            max_rows: 0,
        }
    }
}

impl DevopsConfig {
    /// Epochs E = ⌊(end − start) / interval⌋.
    pub fn epochs(&self) -> u64 {
        if self.interval <= 0 || self.end <= self.start {
            return 0;
        }
        ((self.end as i128 - self.start as i128) / self.interval as i128) as u64
    }

    /// Fields per row.
    pub fn fields(&self) -> &'static [&'static str] {
        &CPU_FIELDS
    }

    /// Hosts written at epoch `e` (the `--initial-scale` ramp).
    pub fn active_hosts(&self, e: u64) -> u64 {
        let init = if self.initial_scale == 0 || self.initial_scale > self.scale {
            self.scale
        } else {
            self.initial_scale
        };
        let epochs = self.epochs();
        if epochs <= 1 {
            return init;
        }
        init + ((self.scale - init) as u128 * e as u128 / (epochs - 1) as u128) as u64
    }

    /// Rows that will be written (respecting the ramp and `max_rows`).
    pub fn rows(&self) -> u64 {
        let epochs = self.epochs();
        let init = if self.initial_scale == 0 || self.initial_scale > self.scale {
            self.scale
        } else {
            self.initial_scale
        };
        // Σ_e init + ⌊(scale − init)·e / (E − 1)⌋ in closed form: epochs can number billions.
        let ramp = if epochs <= 1 {
            0
        } else {
            floor_sum(
                epochs as u128,
                (epochs - 1) as u128,
                (self.scale - init) as u128,
                0,
            )
        };
        let all = u64::try_from(init as u128 * epochs as u128 + ramp).unwrap_or(u64::MAX);
        if self.max_rows == 0 {
            all
        } else {
            all.min(self.max_rows)
        }
    }
}

/// Σ_{i=0}^{n−1} ⌊(a·i + b) / m⌋ for m > 0 (the classic Euclid-like reduction).
fn floor_sum(n: u128, m: u128, mut a: u128, mut b: u128) -> u128 {
    let (mut n, mut m) = (n, m);
    let mut sum = 0u128;
    loop {
        if a >= m {
            sum = sum.saturating_add(n * (n.saturating_sub(1)) / 2 * (a / m));
            a %= m;
        }
        if b >= m {
            sum = sum.saturating_add(n * (b / m));
            b %= m;
        }
        let y_max = a * n + b;
        if y_max < m {
            return sum;
        }
        n = y_max / m;
        b = y_max % m;
        std::mem::swap(&mut m, &mut a);
    }
}

/// One host: its tag section (already rendered) and the state of its random walks.
#[derive(Debug, Clone)]
struct Host {
    tags: Vec<u8>,
    state: [f64; 10],
}

/// Produces the rows epoch by epoch from Go's global source, in TSBS's draw order.
#[derive(Debug)]
pub struct DevopsGenerator {
    config: DevopsConfig,
    rng: GoRand,
    hosts: Vec<Host>,
    epoch: u64,
    rows_written: u64,
}

impl DevopsGenerator {
    /// Seeds the source and draws every host's initial state and tags (spec §6.2 steps 1–2).
    pub fn new(config: DevopsConfig) -> DevopsGenerator {
        let mut rng = GoRand::new(config.seed);
        let mut hosts = Vec::with_capacity(config.scale.min(1 << 20) as usize);
        for i in 0..config.scale {
            let mut state = [0.0; 10];
            for s in &mut state {
                *s = rng.float64() * 100.0;
            }
            let (region, letters) = REGIONS[rng.intn(REGIONS.len())];
            let letter = letters[rng.intn(letters.len())];
            let rack = rng.int63n(100);
            let arch = ARCHES[rng.intn(ARCHES.len())];
            let os = OSES[rng.intn(OSES.len())];
            let service = rng.int63n(20);
            let service_version = rng.int63n(2);
            let environment = ENVIRONMENTS[rng.intn(ENVIRONMENTS.len())];
            let team = TEAMS[rng.intn(TEAMS.len())];
            let tags = format!(
                "cpu,hostname=host_{i},region={region},datacenter={region}{letter},rack={rack},os={os},arch={arch},team={team},service={service},service_version={service_version},service_environment={environment}"
            );
            hosts.push(Host {
                tags: tags.into_bytes(),
                state,
            });
        }
        DevopsGenerator {
            config,
            rng,
            hosts,
            epoch: 0,
            rows_written: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DevopsConfig {
        &self.config
    }

    /// Appends the next epoch's rows as line protocol to `out`; false when all epochs are done.
    pub fn next_epoch(&mut self, out: &mut Vec<u8>) -> bool {
        if self.epoch >= self.config.epochs()
            || (self.config.max_rows != 0 && self.rows_written >= self.config.max_rows)
        {
            return false;
        }
        if self.epoch > 0 {
            // Every host's walks advance, active or not, so the stream stays in step.
            for host in &mut self.hosts {
                for s in &mut host.state {
                    *s = (*s + self.rng.norm_float64()).clamp(0.0, 100.0);
                }
            }
        }
        let ts = self.config.start + self.epoch as i64 * self.config.interval;
        let active = self.config.active_hosts(self.epoch) as usize;
        for host in self.hosts.iter().take(active) {
            if self.config.max_rows != 0 && self.rows_written >= self.config.max_rows {
                break;
            }
            out.extend_from_slice(&host.tags);
            for (f, name) in self.config.fields().iter().enumerate() {
                out.push(if f == 0 { b' ' } else { b',' });
                out.extend_from_slice(name.as_bytes());
                out.push(b'=');
                push_i64(out, host.state[f] as i64);
                out.push(b'i');
            }
            out.push(b' ');
            push_i64(out, ts);
            out.push(b'\n');
            self.rows_written += 1;
        }
        self.epoch += 1;
        true
    }

    /// Writes all remaining rows to `out`; returns the number of rows written in all.
    pub fn write_all(
        &mut self,
        out: &mut impl Write,
        mut progress: impl FnMut(u64),
    ) -> io::Result<u64> {
        let mut buf = Vec::with_capacity(1 << 17);
        while self.next_epoch(&mut buf) {
            if buf.len() >= 1 << 16 {
                out.write_all(&buf)?;
                buf.clear();
            }
            progress(self.rows_written);
        }
        out.write_all(&buf)?;
        Ok(self.rows_written)
    }

    /// Rows produced so far.
    pub fn rows_written(&self) -> u64 {
        self.rows_written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector of spec §6.2: seed 123, scale 2, first three epochs.
    #[test]
    fn matches_tsbs_vector() {
        let mut g = DevopsGenerator::new(DevopsConfig {
            scale: 2,
            seed: 123,
            ..Default::default()
        });
        let mut out = Vec::new();
        for _ in 0..3 {
            assert!(g.next_epoch(&mut out));
        }
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let h0 = "cpu,hostname=host_0,region=eu-central-1,datacenter=eu-central-1a,rack=6,os=Ubuntu15.10,arch=x86,team=SF,service=19,service_version=1,service_environment=test";
        let h1 = "cpu,hostname=host_1,region=us-west-1,datacenter=us-west-1a,rack=41,os=Ubuntu15.10,arch=x64,team=NYC,service=9,service_version=1,service_environment=staging";
        let expected = [
            format!(
                "{h0} usage_user=58i,usage_system=2i,usage_idle=24i,usage_nice=61i,usage_iowait=22i,usage_irq=63i,usage_softirq=6i,usage_steal=44i,usage_guest=80i,usage_guest_nice=38i 1451606400000000000"
            ),
            format!(
                "{h1} usage_user=84i,usage_system=11i,usage_idle=53i,usage_nice=87i,usage_iowait=29i,usage_irq=20i,usage_softirq=54i,usage_steal=77i,usage_guest=53i,usage_guest_nice=74i 1451606400000000000"
            ),
            format!(
                "{h0} usage_user=59i,usage_system=4i,usage_idle=25i,usage_nice=60i,usage_iowait=23i,usage_irq=62i,usage_softirq=5i,usage_steal=47i,usage_guest=80i,usage_guest_nice=38i 1451606410000000000"
            ),
            format!(
                "{h1} usage_user=85i,usage_system=13i,usage_idle=52i,usage_nice=88i,usage_iowait=28i,usage_irq=20i,usage_softirq=55i,usage_steal=79i,usage_guest=53i,usage_guest_nice=74i 1451606410000000000"
            ),
            format!(
                "{h0} usage_user=59i,usage_system=3i,usage_idle=24i,usage_nice=63i,usage_iowait=22i,usage_irq=63i,usage_softirq=5i,usage_steal=48i,usage_guest=79i,usage_guest_nice=37i 1451606420000000000"
            ),
            format!(
                "{h1} usage_user=85i,usage_system=14i,usage_idle=53i,usage_nice=87i,usage_iowait=29i,usage_irq=19i,usage_softirq=54i,usage_steal=80i,usage_guest=53i,usage_guest_nice=75i 1451606420000000000"
            ),
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn row_count_closed_form_matches_the_sum() {
        for (scale, init, epochs) in [
            (10, 2, 5),
            (7, 1, 100),
            (1000, 3, 8640),
            (5, 5, 9),
            (9, 0, 1),
            (4, 1, 2),
        ] {
            let c = DevopsConfig {
                scale,
                initial_scale: init,
                end: DevopsConfig::default().start + epochs * 10_000_000_000,
                ..Default::default()
            };
            let sum: u64 = (0..c.epochs()).map(|e| c.active_hosts(e)).sum();
            assert_eq!(c.rows(), sum, "{scale} {init} {epochs}");
        }
        // A day at 1 ns: counted, not iterated.
        let c = DevopsConfig {
            scale: 3,
            initial_scale: 1,
            interval: 1,
            ..Default::default()
        };
        assert!(c.rows() > 86_400_000_000_000);
    }

    #[test]
    fn epochs_ramp_and_limits() {
        let c = DevopsConfig {
            scale: 10,
            ..Default::default()
        };
        assert_eq!(c.epochs(), 8640);
        assert_eq!(c.rows(), 86_400);
        let c = DevopsConfig {
            scale: 10,
            initial_scale: 2,
            end: c.start + 50_000_000_000,
            ..Default::default()
        };
        assert_eq!(
            (0..5).map(|e| c.active_hosts(e)).collect::<Vec<_>>(),
            [2, 4, 6, 8, 10]
        );
        let mut g = DevopsGenerator::new(c.clone());
        let mut out = Vec::new();
        assert_eq!(g.write_all(&mut out, |_| {}).unwrap(), 30);
        assert_eq!(c.rows(), 30);
        let c = DevopsConfig {
            scale: 3,
            max_rows: 7,
            ..Default::default()
        };
        let mut g = DevopsGenerator::new(c.clone());
        out.clear();
        assert_eq!(g.write_all(&mut out, |_| {}).unwrap(), 7);
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 7);
        assert_eq!(c.rows(), 7);
    }
}
