//! Unsigned sections: the integer codec on the values' bits (spec §5.6).

use std::sync::Arc;

use crate::FieldType;
use crate::codec::{Codec, Unsigneds};
use crate::error::{Result, Section};
use crate::integer::{self, Forced, PACKED, RAW, RLE};

/// Appends the section InfluxDB 1.x would write for `values`.
pub fn encode(values: &[u64], out: &mut Vec<u8>) -> Result<()> {
    integer::encode(values, out)
}

/// Decodes an unsigned section and appends its values to `out`.
pub fn decode(section: &[u8], out: &mut Vec<u64>) -> Result<()> {
    integer::decode(section, out, Section::Values(FieldType::Unsigned))
}

pub(crate) fn builtin_codecs() -> Vec<Arc<dyn Codec<Unsigneds>>> {
    vec![
        Arc::new(Forced::<Unsigneds, RAW>::default()),
        Arc::new(Forced::<Unsigneds, PACKED>::default()),
        Arc::new(Forced::<Unsigneds, RLE>::default()),
    ]
}
