//! Value sources: fill a typed column with the next values of one series (spec §4.8).

use tsmdb_encoding::Column;

use crate::gorand::{GoRand, Zipf};
use crate::schema::{FieldSource, Literals};

/// The running state of one spec's values.
#[derive(Debug)]
pub enum ValueStream {
    /// Constants and arrays: position within the cycle, reset for every series.
    Cycle {
        /// The values.
        values: Literals,
        /// Index of the next value.
        position: usize,
    },
    /// `rand<float>`: one Go stream per spec, never reset.
    RandFloat {
        /// The stream.
        rng: GoRand,
        /// Lower bound.
        min: f64,
        /// max − min.
        scale: f64,
    },
    /// `zipf<integer>`: one Go stream per spec, never reset.
    Zipf {
        /// The stream.
        rng: GoRand,
        /// The distribution.
        zipf: Zipf,
    },
}

impl ValueStream {
    /// The stream of a source, at its start.
    pub fn new(source: &FieldSource) -> ValueStream {
        match source {
            FieldSource::Cycle(values) => ValueStream::Cycle {
                values: values.clone(),
                position: 0,
            },
            FieldSource::RandFloat { seed, min, max } => ValueStream::RandFloat {
                rng: GoRand::new(*seed),
                min: *min,
                scale: max - min,
            },
            FieldSource::Zipf { seed, s, v, imax } => ValueStream::Zipf {
                rng: GoRand::new(*seed),
                // Decoding guarantees s > 1 and v ≥ 1; the fallback only keeps this total.
                zipf: Zipf::new(*s, *v, *imax).unwrap_or_else(|| {
                    Zipf::new(2.0, 1.0, *imax).expect("s = 2, v = 1 are valid Zipf parameters")
                }),
            },
        }
    }

    /// Called before each new series: arrays restart, random streams continue.
    pub fn start_series(&mut self) {
        if let ValueStream::Cycle { position, .. } = self {
            *position = 0;
        }
    }

    /// Replaces `column`'s contents with the next `n` values (its type must match the source).
    pub fn fill(&mut self, n: usize, column: &mut Column) {
        column.clear();
        match (self, column) {
            (ValueStream::Cycle { values, position }, column) => {
                fill_cycle(values, position, n, column)
            }
            (ValueStream::RandFloat { rng, min, scale }, Column::Float(out)) => {
                out.reserve(n);
                out.extend((0..n).map(|_| *scale * rng.float64() + *min));
            }
            (ValueStream::Zipf { rng, zipf }, Column::Integer(out)) => {
                out.reserve(n);
                out.extend((0..n).map(|_| zipf.sample(rng) as i64));
            }
            // The generator always passes the column of the spec's type; a mismatch is a bug
            // that leaves the column empty rather than producing wrong data.
            _ => debug_assert!(false, "column type does not match the value source"),
        }
    }
}

fn fill_cycle(values: &Literals, position: &mut usize, n: usize, column: &mut Column) {
    fn cycle<T: Clone>(values: &[T], position: &mut usize, n: usize, out: &mut Vec<T>) {
        if let [only] = values {
            out.resize(n, only.clone());
            return;
        }
        out.reserve(n);
        let mut left = n;
        while left > 0 {
            let take = (values.len() - *position).min(left);
            out.extend_from_slice(&values[*position..*position + take]);
            *position = (*position + take) % values.len();
            left -= take;
        }
    }
    match (values, column) {
        (Literals::Float(v), Column::Float(out)) => cycle(v, position, n, out),
        (Literals::Integer(v), Column::Integer(out)) => cycle(v, position, n, out),
        (Literals::Boolean(v), Column::Boolean(out)) => cycle(v, position, n, out),
        (Literals::String(v), Column::String(out)) => {
            for _ in 0..n {
                out.push(v[*position].as_bytes());
                *position = (*position + 1) % v.len();
            }
        }
        _ => debug_assert!(false, "column type does not match the literals"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_cycle_and_restart_per_series() {
        let mut s = ValueStream::new(&FieldSource::Cycle(Literals::Integer(vec![5, 6, 7])));
        let mut c = Column::Integer(Vec::new());
        s.fill(4, &mut c);
        assert_eq!(c, Column::Integer(vec![5, 6, 7, 5]));
        s.fill(3, &mut c);
        assert_eq!(c, Column::Integer(vec![6, 7, 5]));
        s.start_series();
        s.fill(2, &mut c);
        assert_eq!(c, Column::Integer(vec![5, 6]));
    }

    #[test]
    fn strings_cycle() {
        let mut s = ValueStream::new(&FieldSource::Cycle(Literals::String(vec![
            "a".into(),
            "b".into(),
        ])));
        let mut c = Column::String(Default::default());
        s.fill(3, &mut c);
        let Column::String(v) = &c else {
            panic!("type")
        };
        assert_eq!(v.iter().collect::<Vec<_>>(), [&b"a"[..], b"b", b"a"]);
    }

    #[test]
    fn random_streams_continue_across_series() {
        let mut s = ValueStream::new(&FieldSource::RandFloat {
            seed: 10,
            min: 0.0,
            max: 1.0,
        });
        let mut c = Column::Float(Vec::new());
        s.fill(2, &mut c);
        s.start_series();
        s.fill(1, &mut c);
        assert_eq!(c, Column::Float(vec![0.925128845219594]));
    }
}
