//! Property tests: series counts, determinism, time ranges, block shapes.

use std::convert::Infallible;

use proptest::prelude::*;
use tsmdb_datagen::time::go_truncate;
use tsmdb_datagen::{
    Combinations, Generator, LineProtocolWriter, Plan, PlanSummary, TimeRange, parse_schema,
};

const S: i64 = 1_000_000_000;

/// A one-block schema with sequence tags of the given cardinalities.
fn schema_text(cards: &[u64], sample: Option<f64>, limit: Option<u64>, fields: &str) -> String {
    let mut text = String::from("[[measurements]]\nname = \"m\"\n");
    if let Some(s) = sample {
        text += &format!("sample = {s:?}\n");
    }
    if let Some(l) = limit {
        text += &format!("series-limit = {l}\n");
    }
    text += "tags = [\n";
    for (j, c) in cards.iter().enumerate() {
        text +=
            &format!("  {{ name = \"t{j}\", source = {{ type = \"sequence\", count = {c} }} }},\n");
    }
    text += "]\n";
    text + fields
}

fn plan(text: &str, range: TimeRange) -> Plan {
    Plan::new(&parse_schema(text, "p.toml", None).unwrap(), range).unwrap()
}

fn lp(plan: &Plan) -> Vec<u8> {
    let mut w = LineProtocolWriter::new(Vec::new());
    Generator::new(plan)
        .for_each_block(|b| w.write_block(b))
        .unwrap();
    w.finish().unwrap()
}

const TWO_FIELDS: &str = "fields = [{ name = \"a\", count = 3, source = { type = \"rand<float>\", seed = 5 } }, { name = \"b\", count = 2, source = [1, 2, 3] }]\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Without sampling: series = Π cardinalities (capped by the block limit), pairs = series × fields.
    #[test]
    fn series_count_is_the_product_of_cardinalities(
        cards in prop::collection::vec(0u64..6, 0..4),
        limit in prop::option::of(0u64..40),
    ) {
        let p = plan(&schema_text(&cards, Some(1.0), limit, TWO_FIELDS), TimeRange { start: 0, end: 60 * S });
        let product: u64 = cards.iter().product();
        let expected = limit.map_or(product, |l| product.min(l));
        let s = PlanSummary::new(&p);
        prop_assert_eq!(s.total(|m| m.series), expected);
        prop_assert_eq!(s.total(|m| m.field_series), expected * 2);
        prop_assert_eq!(s.measurements.first().map_or(0, |m| m.tag_combos), if cards.is_empty() { 1 } else { product });
    }

    /// With sampling: index 0 always, then each later index independently, never more than C;
    /// every field of a block keeps the same combinations.
    #[test]
    fn sampling_keeps_a_subset_shared_by_all_fields(
        cards in prop::collection::vec(1u64..8, 1..4),
        sample in 0.01f64..1.0,
    ) {
        let p = plan(&schema_text(&cards, Some(sample), None, TWO_FIELDS), TimeRange { start: 0, end: 60 * S });
        let product: u64 = cards.iter().product();
        let a: Vec<u64> = Combinations::new(&p.specs[0]).collect();
        let b: Vec<u64> = Combinations::new(&p.specs[1]).collect();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.first(), Some(&0));
        prop_assert!(a.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(a.last().is_some_and(|&l| l < product));
        let s = PlanSummary::new(&p);
        prop_assert_eq!(s.total(|m| m.series), a.len() as u64);
    }

    /// A top-level limit caps the merged (key, field) pairs.
    #[test]
    fn top_level_limit_caps_pairs(cards in prop::collection::vec(1u64..5, 1..3), limit in 0u64..30) {
        let text = format!("series-limit = {limit}\n{}", schema_text(&cards, Some(1.0), None, TWO_FIELDS));
        let p = plan(&text, TimeRange { start: 0, end: 60 * S });
        let product: u64 = cards.iter().product();
        let totals = Generator::new(&p).for_each_block(|_| Ok::<(), Infallible>(())).unwrap();
        prop_assert_eq!(totals.pairs, (product * 2).min(limit));
    }

    /// Same schema and range → the same bytes.
    #[test]
    fn generation_is_deterministic(cards in prop::collection::vec(1u64..5, 1..3), sample in 0.1f64..1.0, seed in any::<i64>()) {
        let fields = format!("fields = [{{ name = \"r\", count = 7, source = {{ type = \"rand<float>\", seed = {seed} }} }}, {{ name = \"z\", count = 4, source = {{ type = \"zipf<integer>\", seed = {seed}, s = 1.5, v = 2, imax = 100 }} }}]\n");
        let text = schema_text(&cards, Some(sample), None, &fields);
        let range = TimeRange { start: 1_000 * S, end: 2_000 * S };
        prop_assert_eq!(lp(&plan(&text, range)), lp(&plan(&text, range)));
    }

    /// Interval mode: every timestamp inside [start, end), spaced by the interval, at most count;
    /// blocks hold at most 1000 values, all series of a field share timestamps.
    #[test]
    fn interval_timestamps_stay_in_range(
        start in -1_000_000i64..1_000_000,
        len in 0i64..50_000,
        interval in 1i64..5_000,
        count in 1u64..3_000,
    ) {
        let fields = format!("fields = [{{ name = \"f\", count = {count}, time-interval = \"{interval}s\", source = true }}]\n");
        let range = TimeRange { start: start * S, end: (start + len) * S };
        let p = plan(&schema_text(&[2], Some(1.0), None, &fields), range);
        let mut per_series: Vec<Vec<i64>> = Vec::new();
        Generator::new(&p).for_each_block(|b| {
            assert!(b.timestamps.len() <= 1000);
            if b.first_of_pair { per_series.push(Vec::new()); }
            per_series.last_mut().unwrap().extend_from_slice(b.timestamps);
            Ok::<(), Infallible>(())
        }).unwrap();
        // Both ends are truncated to the interval counted from year 1 (Go's time.Truncate), so
        // with an interval that does not divide a day the first point may precede the start.
        let lo = go_truncate(range.start, interval * S);
        let hi = go_truncate(range.end, interval * S);
        for ts in &per_series {
            prop_assert!(ts.len() as u64 <= count);
            prop_assert!(ts.iter().all(|&t| t >= lo && t < hi && t < range.end));
            prop_assert!(ts.windows(2).all(|w| w[1] - w[0] == interval * S));
            prop_assert_eq!(ts, &per_series[0]);
        }
        // As many values as fit: min(count, whole intervals between the truncated ends).
        prop_assert_eq!(p.specs[0].times.count, count.min(((hi - lo).max(0) / (interval * S)) as u64));
        prop_assert_eq!(per_series.len() as u64, if p.specs[0].times.count == 0 { 0 } else { 2 });
    }

    /// Precision mode: timestamps start at the (second-aligned) start and are evenly spaced by a
    /// multiple of the precision; rounding may push the last one past the end, by at most half a
    /// step per interval (spec §4.7).
    #[test]
    fn precision_timestamps_start_in_range(
        start in 0i64..1_000_000,
        len in 1i64..100_000,
        count in 1u64..2_000,
    ) {
        let fields = format!("fields = [{{ name = \"f\", count = {count}, time-precision = \"s\", source = 1.5 }}]\n");
        let range = TimeRange { start: start * S, end: (start + len) * S };
        let p = plan(&schema_text(&[1], Some(1.0), None, &fields), range);
        let t = p.specs[0].times;
        prop_assert!(t.count <= count);
        prop_assert_eq!(t.start, range.start);
        prop_assert!(t.delta % S == 0 && t.delta >= S);
        if t.count > 0 {
            let last = t.at(t.count - 1);
            // Rounding adds at most half a precision step per interval.
            prop_assert!(last - range.start <= (range.end - range.start) + t.count as i64 * S / 2);
            if t.count < count {
                // Fewer values only when the range has fewer whole steps than count.
                prop_assert_eq!(t.count as i64, (range.end - range.start) / S);
            }
        }
    }
}
