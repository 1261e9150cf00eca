//! Arbitrary bytes as a TSM file: open, walk the index, read and decode every block of every key.
//! Must never panic; anything that opens must read back consistently.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmdb_tsm_file::{ReadOptions, TimeRange, TsmReader, Values};

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions {
        apply_tombstones: false,
        ..Default::default()
    };
    let Ok(reader) = TsmReader::from_bytes("fuzz.tsm", data.to_vec(), options) else {
        return;
    };
    let mut values = Values::new();
    let (mut times, mut column) = (
        Vec::new(),
        tsmdb_encoding::Column::empty(tsmdb_encoding::FieldType::Float),
    );
    for k in reader.keys() {
        assert_eq!(reader.position_of(k.key), Some(k.position));
        for e in k.iter() {
            let _ = reader.block(k.key, &e);
            let _ = reader.decode_block(&k, &e, &mut times, &mut column);
        }
        if reader
            .read_values(k.key, TimeRange::ALL, &mut values)
            .is_ok()
        {
            assert!(values.timestamps.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(values.timestamps.len(), values.values.len());
        }
        let _ = reader.read_values(
            k.key,
            TimeRange::new(k.min_time(), k.min_time()),
            &mut values,
        );
    }
});
