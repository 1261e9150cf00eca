//! The five TSM value types and column-oriented value storage shared by every layer above.
//!
//! The same types carry different numeric codes in different layers (TSM block byte, WAL byte,
//! line-protocol code); the conversions live here so that no other crate hard-codes them.

/// The type of a field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldType {
    /// 64-bit IEEE-754 floats.
    Float,
    /// Signed 64-bit integers.
    Integer,
    /// Booleans.
    Boolean,
    /// Byte strings (InfluxDB does not require valid UTF-8).
    String,
    /// Unsigned 64-bit integers.
    Unsigned,
}

impl FieldType {
    /// Every type, in TSM block-type order.
    pub const ALL: [FieldType; 5] = [
        FieldType::Float,
        FieldType::Integer,
        FieldType::Boolean,
        FieldType::String,
        FieldType::Unsigned,
    ];

    /// The type byte at the start of a TSM block (and in a TSM index entry).
    pub const fn block_type(self) -> u8 {
        match self {
            FieldType::Float => 0,
            FieldType::Integer => 1,
            FieldType::Boolean => 2,
            FieldType::String => 3,
            FieldType::Unsigned => 4,
        }
    }

    /// The type for a TSM block-type byte, or `None` for an unknown byte.
    pub const fn from_block_type(byte: u8) -> Option<FieldType> {
        match byte {
            0 => Some(FieldType::Float),
            1 => Some(FieldType::Integer),
            2 => Some(FieldType::Boolean),
            3 => Some(FieldType::String),
            4 => Some(FieldType::Unsigned),
            _ => None,
        }
    }

    /// The value-type byte in a WAL write entry.
    pub const fn wal_type(self) -> u8 {
        match self {
            FieldType::Float => 1,
            FieldType::Integer => 2,
            FieldType::Boolean => 3,
            FieldType::String => 4,
            FieldType::Unsigned => 5,
        }
    }

    /// The type for a WAL value-type byte, or `None` for an unknown byte.
    pub const fn from_wal_type(byte: u8) -> Option<FieldType> {
        match byte {
            1 => Some(FieldType::Float),
            2 => Some(FieldType::Integer),
            3 => Some(FieldType::Boolean),
            4 => Some(FieldType::String),
            5 => Some(FieldType::Unsigned),
            _ => None,
        }
    }

    /// The InfluxQL name: `float`, `integer`, `boolean`, `string` or `unsigned`.
    pub const fn name(self) -> &'static str {
        match self {
            FieldType::Float => "float",
            FieldType::Integer => "integer",
            FieldType::Boolean => "boolean",
            FieldType::String => "string",
            FieldType::Unsigned => "unsigned",
        }
    }

    /// Parses an InfluxQL type name (as printed by [`FieldType::name`]).
    pub fn from_name(name: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for FieldType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Many byte strings stored back to back: one allocation for the bytes, one for the offsets.
///
/// String `i` is `bytes[ends[i-1]..ends[i]]` (with `ends[-1] = 0`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StringColumn {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl StringColumn {
    /// An empty column.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty column with room for `count` strings of `bytes` bytes in all.
    pub fn with_capacity(count: usize, bytes: usize) -> Self {
        StringColumn {
            bytes: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(count),
        }
    }

    /// Appends one string.
    pub fn push(&mut self, value: &[u8]) {
        self.bytes.extend_from_slice(value);
        self.ends.push(self.bytes.len());
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the column holds no string.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.bytes[start..end])
    }

    /// Iterates the strings in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + Clone + '_ {
        (0..self.len()).map(move |i| self.get(i).unwrap_or_default())
    }

    /// Removes every string, keeping the allocations for reuse.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Total bytes of all strings.
    pub fn total_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Keeps the first `len` strings.
    pub fn truncate(&mut self, len: usize) {
        if len < self.ends.len() {
            self.ends.truncate(len);
            self.bytes.truncate(self.ends.last().copied().unwrap_or(0));
        }
    }

    /// Moves strings `run` down so that they start at index `to`, overwriting what was there:
    /// the in-place step of dropping runs of strings (filters move each kept run down, then
    /// [`truncate`](Self::truncate)). Strings before `to` and from `run.end` on are untouched;
    /// the ones in between are unspecified until truncated. Nothing moves unless
    /// `to <= run.start <= run.end <= len()`.
    pub fn move_down(&mut self, run: std::ops::Range<usize>, to: usize) {
        if to >= run.start || run.start >= run.end || run.end > self.ends.len() {
            return;
        }
        let byte_at = |ends: &[usize], i: usize| if i == 0 { 0 } else { ends[i - 1] };
        let from_byte = byte_at(&self.ends, run.start);
        let end_byte = self.ends[run.end - 1];
        let to_byte = byte_at(&self.ends, to);
        self.bytes.copy_within(from_byte..end_byte, to_byte);
        for i in 0..run.len() {
            self.ends[to + i] = self.ends[run.start + i] - from_byte + to_byte;
        }
    }
}

impl StringColumn {
    /// A borrowed view of every string.
    pub fn as_slice(&self) -> StringSlice<'_> {
        StringSlice {
            bytes: &self.bytes,
            ends: &self.ends,
            start: 0,
        }
    }

    /// A borrowed view of strings `range` (clamped to the column).
    pub fn slice(&self, range: std::ops::Range<usize>) -> StringSlice<'_> {
        self.as_slice().slice(range)
    }

    /// Appends `count` strings whose bytes are `bytes` and whose lengths are `lengths`, in one go
    /// (decoders use this to avoid one call per string). `lengths` must sum to `bytes.len()`;
    /// if they do not, nothing is appended and `false` is returned.
    pub fn extend_from_parts(
        &mut self,
        bytes: &[u8],
        lengths: impl IntoIterator<Item = usize>,
    ) -> bool {
        let mark = self.ends.len();
        let base = self.bytes.len();
        let mut end = base;
        for len in lengths {
            end += len;
            self.ends.push(end);
        }
        if end - base != bytes.len() {
            self.ends.truncate(mark);
            return false;
        }
        self.bytes.extend_from_slice(bytes);
        true
    }

    /// Appends the first `len` bytes of `window` as one string (`len <= W`). Copying the whole
    /// fixed-size window and trimming is a couple of register moves, where copying exactly
    /// `len` bytes would be a `memcpy` call: decoders use it for short strings.
    pub(crate) fn push_prefix<const W: usize>(&mut self, window: &[u8; W], len: usize) {
        let len = len.min(W);
        self.bytes.extend_from_slice(window);
        self.bytes.truncate(self.bytes.len() - (W - len));
        self.ends.push(self.bytes.len());
    }

    /// Reserves room for `count` more strings of `bytes` bytes in all.
    pub fn reserve(&mut self, count: usize, bytes: usize) {
        self.ends.reserve(count);
        self.bytes.reserve(bytes);
    }
}

/// A borrowed run of strings from a [`StringColumn`] (what encoders take).
#[derive(Debug, Clone, Copy)]
pub struct StringSlice<'a> {
    bytes: &'a [u8],
    ends: &'a [usize],
    /// Byte offset in `bytes` where the first string starts.
    start: usize,
}

impl<'a> StringSlice<'a> {
    /// Number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the slice holds no string.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(index)?;
        let start = match index.checked_sub(1) {
            Some(prev) => *self.ends.get(prev)?,
            None => self.start,
        };
        self.bytes.get(start..end)
    }

    /// Iterates the strings in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + Clone + 'a {
        let this = *self;
        (0..this.len()).map(move |i| this.get(i).unwrap_or_default())
    }

    /// Total bytes of all strings in the slice.
    pub fn total_bytes(&self) -> usize {
        self.ends.last().map_or(0, |&end| end - self.start)
    }

    /// The strings `range` of this slice (clamped).
    pub fn slice(&self, range: std::ops::Range<usize>) -> StringSlice<'a> {
        let end = range.end.min(self.ends.len());
        let begin = range.start.min(end);
        let start = match begin.checked_sub(1) {
            Some(prev) => self.ends[prev],
            None => self.start,
        };
        StringSlice {
            bytes: self.bytes,
            ends: &self.ends[begin..end],
            start,
        }
    }
}

/// A borrowed typed column: what block encoders take, so callers can encode part of a column
/// (for example 1000 values at a time) without copying.
#[derive(Debug, Clone, Copy)]
pub enum ColumnRef<'a> {
    /// Float values.
    Float(&'a [f64]),
    /// Integer values.
    Integer(&'a [i64]),
    /// Boolean values.
    Boolean(&'a [bool]),
    /// String values.
    String(StringSlice<'a>),
    /// Unsigned values.
    Unsigned(&'a [u64]),
}

impl<'a> ColumnRef<'a> {
    /// The column's type.
    pub fn field_type(&self) -> FieldType {
        match self {
            ColumnRef::Float(_) => FieldType::Float,
            ColumnRef::Integer(_) => FieldType::Integer,
            ColumnRef::Boolean(_) => FieldType::Boolean,
            ColumnRef::String(_) => FieldType::String,
            ColumnRef::Unsigned(_) => FieldType::Unsigned,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            ColumnRef::Float(v) => v.len(),
            ColumnRef::Integer(v) => v.len(),
            ColumnRef::Boolean(v) => v.len(),
            ColumnRef::String(v) => v.len(),
            ColumnRef::Unsigned(v) => v.len(),
        }
    }

    /// True when the column holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values `range` (clamped to the column).
    pub fn slice(&self, range: std::ops::Range<usize>) -> ColumnRef<'a> {
        fn clamp<T>(v: &[T], r: std::ops::Range<usize>) -> &[T] {
            let end = r.end.min(v.len());
            &v[r.start.min(end)..end]
        }
        match *self {
            ColumnRef::Float(v) => ColumnRef::Float(clamp(v, range)),
            ColumnRef::Integer(v) => ColumnRef::Integer(clamp(v, range)),
            ColumnRef::Boolean(v) => ColumnRef::Boolean(clamp(v, range)),
            ColumnRef::String(v) => ColumnRef::String(v.slice(range)),
            ColumnRef::Unsigned(v) => ColumnRef::Unsigned(clamp(v, range)),
        }
    }
}

impl<'a> FromIterator<&'a [u8]> for StringColumn {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(iter: I) -> Self {
        let mut column = StringColumn::new();
        for s in iter {
            column.push(s);
        }
        column
    }
}

/// The values of one key, as a typed column (no per-value enum).
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Float values.
    Float(Vec<f64>),
    /// Integer values.
    Integer(Vec<i64>),
    /// Boolean values.
    Boolean(Vec<bool>),
    /// String values.
    String(StringColumn),
    /// Unsigned values.
    Unsigned(Vec<u64>),
}

impl Column {
    /// An empty column of the given type.
    pub fn empty(field_type: FieldType) -> Column {
        match field_type {
            FieldType::Float => Column::Float(Vec::new()),
            FieldType::Integer => Column::Integer(Vec::new()),
            FieldType::Boolean => Column::Boolean(Vec::new()),
            FieldType::String => Column::String(StringColumn::new()),
            FieldType::Unsigned => Column::Unsigned(Vec::new()),
        }
    }

    /// The column's type.
    pub fn field_type(&self) -> FieldType {
        match self {
            Column::Float(_) => FieldType::Float,
            Column::Integer(_) => FieldType::Integer,
            Column::Boolean(_) => FieldType::Boolean,
            Column::String(_) => FieldType::String,
            Column::Unsigned(_) => FieldType::Unsigned,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Column::Float(v) => v.len(),
            Column::Integer(v) => v.len(),
            Column::Boolean(v) => v.len(),
            Column::String(v) => v.len(),
            Column::Unsigned(v) => v.len(),
        }
    }

    /// True when the column holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A borrowed view of the whole column.
    pub fn as_ref(&self) -> ColumnRef<'_> {
        match self {
            Column::Float(v) => ColumnRef::Float(v),
            Column::Integer(v) => ColumnRef::Integer(v),
            Column::Boolean(v) => ColumnRef::Boolean(v),
            Column::String(v) => ColumnRef::String(v.as_slice()),
            Column::Unsigned(v) => ColumnRef::Unsigned(v),
        }
    }

    /// Empties the column and makes it hold `field_type`, reusing the allocation when the type
    /// already matches.
    pub fn reset(&mut self, field_type: FieldType) {
        if self.field_type() == field_type {
            self.clear();
        } else {
            *self = Column::empty(field_type);
        }
    }

    /// Removes every value, keeping the type and the allocation.
    pub fn clear(&mut self) {
        match self {
            Column::Float(v) => v.clear(),
            Column::Integer(v) => v.clear(),
            Column::Boolean(v) => v.clear(),
            Column::String(v) => v.clear(),
            Column::Unsigned(v) => v.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_codes_round_trip_and_differ_by_layer() {
        for t in FieldType::ALL {
            assert_eq!(FieldType::from_block_type(t.block_type()), Some(t));
            assert_eq!(FieldType::from_wal_type(t.wal_type()), Some(t));
            assert_eq!(FieldType::from_name(t.name()), Some(t));
        }
        assert_eq!(FieldType::from_block_type(5), None);
        assert_eq!(FieldType::from_wal_type(0), None);
        assert_eq!(FieldType::Float.block_type(), 0);
        assert_eq!(FieldType::Float.wal_type(), 1);
    }

    #[test]
    fn string_column_moves_runs_down_in_place() {
        let mut c: StringColumn = [&b"a"[..], b"bb", b"", b"dddd", b"e", b"ff"]
            .into_iter()
            .collect();
        // Drop "bb" and "" (indices 1..3): "dddd", "e" move down to 1.
        c.move_down(3..5, 1);
        c.truncate(3);
        let got: Vec<&[u8]> = c.iter().collect();
        assert_eq!(got, [&b"a"[..], b"dddd", b"e"]);
        assert_eq!(c.total_bytes(), 6);
        // Out-of-order or out-of-bounds requests change nothing.
        let before = c.clone();
        c.move_down(0..1, 2);
        c.move_down(1..9, 0);
        c.move_down(2..2, 0);
        assert_eq!(c, before);
    }

    #[test]
    fn string_column_stores_strings_back_to_back() {
        let mut c: StringColumn = [&b"ab"[..], b"", b"\xffz"].into_iter().collect();
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(0), Some(&b"ab"[..]));
        assert_eq!(c.get(1), Some(&b""[..]));
        assert_eq!(c.get(2), Some(&b"\xffz"[..]));
        assert_eq!(c.get(3), None);
        assert_eq!(c.total_bytes(), 4);
        c.truncate(1);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![&b"ab"[..]]);
        c.clear();
        assert!(c.is_empty());
    }
}
