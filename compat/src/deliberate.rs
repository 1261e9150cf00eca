//! The one list of deliberate differences from InfluxDB 1.6.7 (tsm-format.md §12 and §0), each
//! with its reason. `docs/compatibility.md` repeats this table; anything else that differs is a
//! bug.

/// One deliberate difference.
#[derive(Debug, Clone, Copy)]
pub struct Deliberate {
    /// Short id used in reports.
    pub id: &'static str,
    /// Where the spec says so.
    pub spec: &'static str,
    /// What differs.
    pub what: &'static str,
    /// Why we do it, and how the suite treats it.
    pub why: &'static str,
}

/// Our decoders reject damaged input that InfluxDB decodes into zero-filled or truncated values.
pub const STRICT_DECODE: &str = "strict-decode";
/// Measurements and tags containing `#!~#` are rejected.
pub const KEY_SEPARATOR: &str = "key-separator";

/// Our WAL replay validates entries strictly and stops where InfluxDB would accept a damaged one.
pub const STRICT_WAL: &str = "strict-wal";
/// A value InfluxDB's parser accepts but cannot convert (it fails the write later); we refuse
/// the line at parse time with the same message.
pub const DEFERRED_CONVERSION: &str = "deferred-conversion";
/// Input on which InfluxDB's code panics.
pub const INFLUXDB_PANICS: &str = "influxdb-panics";

/// Every deliberate difference.
pub const DELIBERATE: &[Deliberate] = &[
    Deliberate {
        id: "uint-always",
        spec: "§10.3",
        what: "The `u` suffix (unsigned fields) is always accepted; InfluxDB 1.6.7 release builds \
               reject it as `invalid number` unless built with the `uint` tag.",
        why: "Unsigned is a full TSM type and InfluxDB's own test suite enables it. The reference \
              program calls `models.EnableUintSupport()`, so the suite compares against the \
              uint-enabled parser and this difference never shows as a mismatch.",
    },
    Deliberate {
        id: STRICT_DECODE,
        spec: "§12.3 R3, R4",
        what: "A damaged section or block that InfluxDB decodes anyway (float decoder zero-filling \
               past the end, blocks whose timestamp and value counts differ being truncated) is \
               an error for us.",
        why: "Corrupt data must be reported, never silently turned into values. Counted as \
              deliberate only when InfluxDB returns values and we return an error on damaged \
              input; if we return values, they must be InfluxDB's.",
    },
    Deliberate {
        id: STRICT_WAL,
        spec: "§12.2, §12.1 D4, D8",
        what: "Replaying a damaged segment, we may stop at an entry InfluxDB still accepts \
               (strict validation: type byte, length bound, snappy, payload consuming exactly \
               the decompressed length), and we report the damage instead of silently dropping \
               the rest.",
        why: "The WAL has no checksum, so strict validation is the only integrity check. Counted \
              as deliberate only when our entries are a prefix of InfluxDB's and we report \
              damage; replaying an entry InfluxDB would not, or a different one, is a bug.",
    },
    Deliberate {
        id: KEY_SEPARATOR,
        spec: "§12.5 Q2",
        what: "A measurement, tag key or tag value containing `#!~#` is rejected \
               (`invalid key: contains \"#!~#\"`).",
        why: "InfluxDB splits composite keys at the first `#!~#`, so such keys mis-split in deletes \
              and index rebuilds. Counted as deliberate only when every point we reject and \
              InfluxDB accepts has `#!~#` in its series key and our error says so.",
    },
    Deliberate {
        id: DEFERRED_CONVERSION,
        spec: "COMMON: one bad line never hides the good lines; errors at the line",
        what: "On odd escapes InfluxDB's parser accepts a line whose field value its iterator \
               later cannot convert (e.g. `f \\\\=\"=c\",e=0` gives a boolean \
               `c\",e=0`); the write of that point then fails with `unable to parse bool \
               value ...`. We reject the line at parse time with that same message.",
        why: "The point can never be stored either way; reporting it with its line number at \
              parse time is clearer than a failed write. Counted as deliberate only when the \
              points InfluxDB accepts that we lack all carry a conversion error, our error text \
              contains that error, and every other point is identical.",
    },
    Deliberate {
        id: INFLUXDB_PANICS,
        spec: "COMMON: bad input never panics",
        what: "Some input makes InfluxDB's parser panic (recovered by the reference program).",
        why: "We must return a result or an error instead. Such cases are counted apart and not \
              compared: there is no InfluxDB answer to match.",
    },
    Deliberate {
        id: "snappy-bytes",
        spec: "§0, §12.4 F6",
        what: "String sections, string blocks, TSM files holding string blocks and WAL segments \
               need not be byte-identical: snappy output may differ.",
        why: "Any conforming snappy encoder is allowed. The suite compares these by having each \
              side decode the other's bytes, not by bytes. (WAL bytes are never compared anyway: \
              InfluxDB writes a write entry's keys in Go map order, which is random.)",
    },
    Deliberate {
        id: "float-end-marker",
        spec: "§12.4 F4",
        what: "The float with bits 7FF8000000000001 (the codec's end marker) cannot be stored.",
        why: "Both sides would stop decoding at it; we reject it at the API. Generators never \
              produce it.",
    },
    Deliberate {
        id: "tombstone-rewrite",
        spec: "§12.1 D6",
        what: "Adding a delete to a v1–v3 tombstone file keeps the older entries (v4 rewrite).",
        why: "InfluxDB drops the older deletes. Not exercised: both sides only ever produce v4 \
              tombstone files in these runs.",
    },
];
