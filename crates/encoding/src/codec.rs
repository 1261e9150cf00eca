//! The [`Codec`] trait and the [`Registry`] that maps a section's header nibble to its codec.
//!
//! Every section starts with a header byte whose high nibble names the codec that wrote it.
//! Decoding looks the nibble up in the table of the section's [`Kind`]; encoding uses either
//! InfluxDB's own choice among the built-in codecs (the default, byte-identical to InfluxDB) or
//! one codec picked with [`CodecTable::encode_with`]. A new codec is a type implementing
//! [`Codec`] in its own module, added with [`CodecTable::register`]; nothing else changes.
//! `docs/codecs.md` walks through an example.

use std::sync::{Arc, OnceLock};

use crate::error::{Error, Problem, Result, Section};
use crate::{FieldType, StringColumn, StringSlice};

/// The values one kind of section holds, and how InfluxDB encodes them by default.
pub trait Kind: Sized + 'static {
    /// What encoders take (a borrowed slice).
    type Input<'a>: Copy;
    /// What decoders append to (a reusable buffer).
    type Output: Default;
    /// The section, for error messages.
    const SECTION: Section;
    /// Number of values in an input.
    fn input_len(input: Self::Input<'_>) -> usize;
    /// Number of values in an output buffer.
    fn output_len(output: &Self::Output) -> usize;
    /// Removes every value from an output buffer.
    fn clear(output: &mut Self::Output);
    /// InfluxDB's encoder: picks among the built-in codecs exactly as InfluxDB 1.x does.
    fn encode_influx(input: Self::Input<'_>, out: &mut Vec<u8>) -> Result<()>;
    /// The built-in codecs of this kind.
    fn builtin_codecs() -> Vec<Arc<dyn Codec<Self>>>;
}

/// One encoding of one kind of section, named by the high nibble of the header byte.
pub trait Codec<K: Kind>: Send + Sync {
    /// The id written in the high nibble of the header byte (0–15).
    fn id(&self) -> u8;
    /// A short name for people (`"simple8b"`, `"gorilla"`...).
    fn name(&self) -> &'static str;
    /// Appends a whole section (header byte included) holding `values` to `out`.
    /// Fails with [`Error::Unencodable`] if the format cannot hold these values.
    fn encode(&self, values: K::Input<'_>, out: &mut Vec<u8>) -> Result<()>;
    /// Decodes a whole section (header byte included, never empty) and appends its values to
    /// `out`. Error offsets are relative to `section`.
    fn decode(&self, section: &[u8], out: &mut K::Output) -> Result<()>;
    /// The number of values in `section`, when the codec can tell without decoding (block
    /// decoders use it to refuse sections that disagree before allocating). Default: `None`.
    fn count(&self, _section: &[u8]) -> Option<Result<usize>> {
        None
    }
}

/// The codecs registered for one kind of section, indexed by id.
pub struct CodecTable<K: Kind> {
    codecs: [Option<Arc<dyn Codec<K>>>; 16],
    encoder: Option<u8>,
}

impl<K: Kind> Clone for CodecTable<K> {
    fn clone(&self) -> Self {
        CodecTable {
            codecs: self.codecs.clone(),
            encoder: self.encoder,
        }
    }
}

impl<K: Kind> std::fmt::Debug for CodecTable<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<(usize, &str)> = self
            .codecs
            .iter()
            .enumerate()
            .filter_map(|(id, c)| c.as_ref().map(|c| (id, c.name())))
            .collect();
        f.debug_struct("CodecTable")
            .field("codecs", &names)
            .field("encoder", &self.encoder)
            .finish()
    }
}

impl<K: Kind> Default for CodecTable<K> {
    fn default() -> Self {
        let mut table = CodecTable {
            codecs: Default::default(),
            encoder: None,
        };
        for codec in K::builtin_codecs() {
            table.register(codec);
        }
        table
    }
}

impl<K: Kind> CodecTable<K> {
    /// Adds `codec` under its id, returning the codec it replaces. Ids above 15 are masked.
    pub fn register(&mut self, codec: Arc<dyn Codec<K>>) -> Option<Arc<dyn Codec<K>>> {
        let id = usize::from(codec.id() & 0x0f);
        self.codecs[id].replace(codec)
    }

    /// The codec registered under `id`.
    pub fn get(&self, id: u8) -> Option<&dyn Codec<K>> {
        self.codecs.get(usize::from(id))?.as_deref()
    }

    /// Makes [`CodecTable::encode`] always use codec `id`; `None` restores InfluxDB's choice.
    pub fn encode_with(&mut self, id: Option<u8>) -> Result<()> {
        if let Some(id) = id
            && self.get(id).is_none()
        {
            return Err(Error::Unregistered {
                section: K::SECTION,
                id,
            });
        }
        self.encoder = id;
        Ok(())
    }

    /// Appends a section holding `values` to `out`.
    pub fn encode(&self, values: K::Input<'_>, out: &mut Vec<u8>) -> Result<()> {
        match self.encoder.and_then(|id| self.get(id)) {
            Some(codec) => codec.encode(values, out),
            None => K::encode_influx(values, out),
        }
    }

    /// Decodes a section and appends its values to `out`; an empty section holds no value.
    pub fn decode(&self, section: &[u8], out: &mut K::Output) -> Result<()> {
        let Some(&header) = section.first() else {
            return Ok(());
        };
        let id = header >> 4;
        match self.get(id) {
            Some(codec) => codec.decode(section, out),
            None => Err(Error::corrupt(
                K::SECTION,
                0,
                Problem::UnknownEncoding { id, header },
            )),
        }
    }

    /// The number of values in `section` if its codec can tell without decoding.
    pub fn count(&self, section: &[u8]) -> Option<Result<usize>> {
        match section.first() {
            None => Some(Ok(0)),
            Some(&header) => self.get(header >> 4)?.count(section),
        }
    }

    /// The name of the codec that wrote `section` (`"empty"` for an empty section).
    pub fn name_of(&self, section: &[u8]) -> Option<&'static str> {
        match section.first() {
            None => Some("empty"),
            Some(&header) => self.get(header >> 4).map(|c| c.name()),
        }
    }
}

macro_rules! slice_kind {
    ($(#[$doc:meta])* $name:ident, $t:ty, $section:expr, $module:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl Kind for $name {
            type Input<'a> = &'a [$t];
            type Output = Vec<$t>;
            const SECTION: Section = $section;
            fn input_len(input: &[$t]) -> usize {
                input.len()
            }
            fn output_len(output: &Vec<$t>) -> usize {
                output.len()
            }
            fn clear(output: &mut Vec<$t>) {
                output.clear()
            }
            fn encode_influx(input: &[$t], out: &mut Vec<u8>) -> Result<()> {
                crate::$module::encode(input, out)
            }
            fn builtin_codecs() -> Vec<Arc<dyn Codec<Self>>> {
                crate::$module::builtin_codecs()
            }
        }
    };
}

slice_kind!(
    /// Timestamp sections (i64 nanoseconds).
    Timestamps,
    i64,
    Section::Timestamps,
    timestamp
);
slice_kind!(
    /// Float value sections.
    Floats,
    f64,
    Section::Values(FieldType::Float),
    float
);
slice_kind!(
    /// Integer value sections.
    Integers,
    i64,
    Section::Values(FieldType::Integer),
    integer
);
slice_kind!(
    /// Unsigned value sections.
    Unsigneds,
    u64,
    Section::Values(FieldType::Unsigned),
    unsigned
);
slice_kind!(
    /// Boolean value sections.
    Booleans,
    bool,
    Section::Values(FieldType::Boolean),
    boolean
);

/// String value sections.
#[derive(Debug, Clone, Copy)]
pub struct Strings;

impl Kind for Strings {
    type Input<'a> = StringSlice<'a>;
    type Output = StringColumn;
    const SECTION: Section = Section::Values(FieldType::String);
    fn input_len(input: StringSlice<'_>) -> usize {
        input.len()
    }
    fn output_len(output: &StringColumn) -> usize {
        output.len()
    }
    fn clear(output: &mut StringColumn) {
        output.clear()
    }
    fn encode_influx(input: StringSlice<'_>, out: &mut Vec<u8>) -> Result<()> {
        crate::string::encode(input, out)
    }
    fn builtin_codecs() -> Vec<Arc<dyn Codec<Self>>> {
        crate::string::builtin_codecs()
    }
}

/// Every codec table: what block encoders and decoders use.
///
/// [`Registry::builtin`] is InfluxDB's set, used by the crate's free functions. Build your own
/// (`Registry::default()` then `register`) to add a codec.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// Timestamp codecs.
    pub timestamps: CodecTable<Timestamps>,
    /// Float codecs.
    pub floats: CodecTable<Floats>,
    /// Integer codecs.
    pub integers: CodecTable<Integers>,
    /// Unsigned codecs.
    pub unsigned: CodecTable<Unsigneds>,
    /// Boolean codecs.
    pub booleans: CodecTable<Booleans>,
    /// String codecs.
    pub strings: CodecTable<Strings>,
}

impl Registry {
    /// The built-in codecs with InfluxDB's encoder choice (shared, built once).
    pub fn builtin() -> &'static Registry {
        static BUILTIN: OnceLock<Registry> = OnceLock::new();
        BUILTIN.get_or_init(Registry::default)
    }

    /// The name of the codec that wrote a value section of type `field_type`.
    pub fn value_codec_name(&self, field_type: FieldType, section: &[u8]) -> Option<&'static str> {
        match field_type {
            FieldType::Float => self.floats.name_of(section),
            FieldType::Integer => self.integers.name_of(section),
            FieldType::Boolean => self.booleans.name_of(section),
            FieldType::String => self.strings.name_of(section),
            FieldType::Unsigned => self.unsigned.name_of(section),
        }
    }
}
