//! The statements of the supported InfluxQL subset.

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `SELECT ...`
    Select(Box<SelectStatement>),
    /// `SHOW DATABASES`
    ShowDatabases,
    /// `SHOW MEASUREMENTS [WITH MEASUREMENT = m | =~ /re/] [LIMIT n] [OFFSET n]`
    ShowMeasurements {
        /// `WITH MEASUREMENT`: which names; `None` is all.
        with: Option<KeySelector>,
        /// `LIMIT` and `OFFSET`.
        page: Page,
    },
    /// `SHOW TAG KEYS [FROM m] [LIMIT n] [OFFSET n]`
    ShowTagKeys {
        /// Measurement, or every measurement.
        from: Option<String>,
        /// `LIMIT` and `OFFSET`, per measurement.
        page: Page,
    },
    /// `SHOW TAG VALUES [FROM m] WITH KEY = k` (or `!= k`, `=~ /re/`, `!~ /re/`,
    /// `IN (k1, k2)`) `[WHERE tags] [LIMIT n] [OFFSET n]`
    ShowTagValues {
        /// Measurement, or every measurement.
        from: Option<String>,
        /// Which tag keys.
        keys: KeySelector,
        /// Tag condition: only values of series that match it.
        condition: Option<Cond>,
        /// `LIMIT` and `OFFSET`, per measurement.
        page: Page,
    },
    /// `SHOW FIELD KEYS [FROM m] [LIMIT n] [OFFSET n]`
    ShowFieldKeys {
        /// Measurement, or every measurement.
        from: Option<String>,
        /// `LIMIT` and `OFFSET`, per measurement.
        page: Page,
    },
    /// `SHOW SERIES [FROM m] [WHERE tags] [LIMIT n] [OFFSET n]`
    ShowSeries {
        /// Measurement, or every measurement.
        from: Option<String>,
        /// Tag condition.
        condition: Option<Cond>,
        /// `LIMIT` and `OFFSET`.
        page: Page,
    },
    /// `CREATE DATABASE name`
    CreateDatabase(String),
    /// `DROP DATABASE name`
    DropDatabase(String),
    /// `DROP MEASUREMENT name`
    DropMeasurement(String),
    /// `DROP SERIES [FROM m] [WHERE tags]`
    DropSeries {
        /// Measurement, or every measurement.
        from: Option<String>,
        /// Tag condition.
        condition: Option<Cond>,
    },
    /// `DELETE [FROM m] [WHERE tags and time]`
    Delete {
        /// Measurement, or every measurement.
        from: Option<String>,
        /// Tag and time condition.
        condition: Option<Cond>,
    },
    /// `CREATE RETENTION POLICY name ON db DURATION d REPLICATION n [DEFAULT]` (the duration is
    /// applied to the database; tsmdb has one retention per database).
    CreateRetentionPolicy {
        /// Policy name (kept for compatibility; not stored).
        name: String,
        /// Database.
        database: String,
        /// Duration in nanoseconds; `None` is INF.
        duration: Option<i64>,
    },
}

/// `LIMIT n OFFSET m` of a `SHOW` statement: applied to the rows of each result series, as
/// InfluxDB does (`LIMIT 0`, like no `LIMIT`, shows every row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Page {
    /// Rows shown at most; `None`: all.
    pub limit: Option<usize>,
    /// Rows skipped first.
    pub offset: usize,
}

impl KeySelector {
    /// Keeps the names of `names` this selector chooses, in their order. An invalid regex is
    /// an error naming it.
    pub fn select(&self, names: Vec<String>) -> Result<Vec<String>, crate::QueryError> {
        let regex = |r: &str| {
            regex::Regex::new(r)
                .map_err(|e| crate::QueryError::msg(format!("invalid regex /{r}/: {e}")))
        };
        Ok(match self {
            KeySelector::In(keep) => names.into_iter().filter(|n| keep.contains(n)).collect(),
            KeySelector::NotEqual(not) => names.into_iter().filter(|n| n != not).collect(),
            KeySelector::Match(r) => {
                let re = regex(r)?;
                names.into_iter().filter(|n| re.is_match(n)).collect()
            }
            KeySelector::NotMatch(r) => {
                let re = regex(r)?;
                names.into_iter().filter(|n| !re.is_match(n)).collect()
            }
        })
    }
}

impl Page {
    /// The rows of `rows` this page shows.
    pub fn apply<T>(&self, rows: Vec<T>) -> Vec<T> {
        rows.into_iter()
            .skip(self.offset)
            .take(self.limit.unwrap_or(usize::MAX))
            .collect()
    }
}

/// Which names a SHOW statement lists: the tag keys of `SHOW TAG VALUES ... WITH KEY`, the
/// measurements of `SHOW MEASUREMENTS WITH MEASUREMENT`.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySelector {
    /// `= k` or `IN (k1, k2)`.
    In(Vec<String>),
    /// `!= k`: every key but this one.
    NotEqual(String),
    /// `=~ /re/`: the keys the regex matches (anywhere in the key, as Go's regexp does).
    Match(String),
    /// `!~ /re/`: the keys the regex does not match.
    NotMatch(String),
}

/// A `SELECT` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectStatement {
    /// What to select.
    pub fields: Vec<FieldExpr>,
    /// The measurement.
    pub from: String,
    /// `WHERE` condition.
    pub condition: Option<Cond>,
    /// `GROUP BY time(every, offset)` in nanoseconds.
    pub group_by_time: Option<(i64, i64)>,
    /// `GROUP BY` tags.
    pub group_by_tags: GroupTags,
    /// `fill(...)`.
    pub fill: Fill,
    /// `ORDER BY time DESC`.
    pub descending: bool,
    /// `LIMIT n`: rows per series.
    pub limit: Option<usize>,
    /// `OFFSET n`: rows skipped per series.
    pub offset: Option<usize>,
    /// `SLIMIT n`: series.
    pub slimit: Option<usize>,
    /// `SOFFSET n`: series skipped.
    pub soffset: Option<usize>,
}

/// One item of the select list.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldExpr {
    /// `*`: every field and tag.
    Wildcard,
    /// A field (or tag) by name.
    Field {
        /// Field or tag name.
        name: String,
        /// `AS alias`.
        alias: Option<String>,
    },
    /// An aggregate call.
    Call {
        /// Function name, lower case.
        func: String,
        /// Field name (`*` for every field).
        field: String,
        /// Numeric argument (percentile).
        arg: Option<f64>,
        /// `AS alias`.
        alias: Option<String>,
    },
}

/// `GROUP BY` tags.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum GroupTags {
    /// No tag grouping.
    #[default]
    None,
    /// `GROUP BY *`.
    All,
    /// `GROUP BY a, b`.
    Keys(Vec<String>),
}

/// `fill(...)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Fill {
    /// `fill(null)` (the default).
    #[default]
    Null,
    /// `fill(none)`: empty windows are skipped.
    None,
    /// `fill(previous)`.
    Previous,
    /// `fill(linear)`.
    Linear,
    /// `fill(N)` with a decimal number: cast to each column's type (an integer column gets it
    /// truncated, as InfluxDB's casts do).
    Value(f64),
    /// `fill(N)` with an integer literal: an integer column gets it exactly, a float column as a
    /// float.
    Integer(i64),
}

/// A condition tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// Both.
    And(Box<Cond>, Box<Cond>),
    /// Either.
    Or(Box<Cond>, Box<Cond>),
    /// `name op value`.
    Cmp {
        /// Left side identifier (tag, field, or `time`).
        name: String,
        /// Operator.
        op: CmpOp,
        /// Right side.
        value: Operand,
        /// Byte offset of the comparison.
        pos: usize,
    },
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=` or `<>`
    Neq,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `=~`
    Match,
    /// `!~`
    NotMatch,
}

/// The right side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A string.
    Str(String),
    /// A number.
    Num(f64),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A regular expression.
    Regex(String),
    /// A time in nanoseconds (from `now()`, an RFC 3339 string or an integer, with durations
    /// added or subtracted).
    Time(i64),
}
