//! Figures about an index for `tsmdb inspect index` and benchmarks.

use crate::index::Index;

/// What kind of grid (spec §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridKind {
    /// Every key is a dimension (cycledb's model).
    Pure,
    /// Dense dimensions plus a row dimension with sparse keys in postings.
    Hybrid,
    /// No dense dimension: a small inverted index with sequential ids.
    Postings,
    /// A postings segment shared by every key set of its measurement that has no grid of
    /// its own (keys: the union of theirs).
    Shared,
}

impl GridKind {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            GridKind::Pure => "pure",
            GridKind::Hybrid => "hybrid",
            GridKind::Postings => "postings",
            GridKind::Shared => "shared",
        }
    }
}

/// One key of a grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimStats {
    /// Tag key.
    pub key: Vec<u8>,
    /// A grid dimension (true) or a sparse key with postings (false).
    pub dense: bool,
    /// Capacity of a dense dimension (0 for sparse keys).
    pub capacity: u32,
    /// Values in the grid's dictionary for this key.
    pub values: u64,
}

/// One grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridStats {
    /// Grid id.
    pub grid: u32,
    /// Owning measurement.
    pub measurement: Vec<u8>,
    /// Kind.
    pub kind: GridKind,
    /// First id of its range.
    pub base: u64,
    /// Ids reserved (`points`).
    pub allocated: u64,
    /// Live series.
    pub live: u64,
    /// Deleted series (their ids are never reused).
    pub dead: u64,
    /// Rows per cell (0 for pure grids).
    pub row_capacity: u32,
    /// Keys, dense ones first in dimension order.
    pub dims: Vec<DimStats>,
    /// Estimated heap bytes.
    pub heap_bytes: u64,
}

/// The whole index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStats {
    /// Next id the allocator hands out (ids below it are allocated).
    pub next_id: u64,
    /// Measurements (including ones without live series).
    pub measurements: u64,
    /// Live series.
    pub live: u64,
    /// Grids in id order.
    pub grids: Vec<GridStats>,
    /// Estimated heap bytes of all grids.
    pub heap_bytes: u64,
}

impl Index {
    /// Figures about every grid.
    pub fn stats(&self) -> IndexStats {
        let reg = self.registry.read();
        let mut grids = Vec::new();
        let mut live = 0;
        for cell in reg.values() {
            let m = cell.m.read();
            live += m.live;
            for g in &m.grids {
                let keys = &m.shapes[g.shape as usize].keys;
                let mut dims: Vec<DimStats> = g
                    .dense
                    .iter()
                    .map(|d| DimStats {
                        key: keys[d.key as usize].to_vec(),
                        dense: true,
                        capacity: d.cap,
                        values: d.dict.len() as u64,
                    })
                    .collect();
                dims.extend(g.sparse.iter().map(|s| DimStats {
                    key: keys[s.key as usize].to_vec(),
                    dense: false,
                    capacity: 0,
                    values: s.dict.len() as u64,
                }));
                grids.push(GridStats {
                    grid: g.id,
                    measurement: m.name.to_vec(),
                    kind: if g.shared {
                        GridKind::Shared
                    } else if g.row_cap == 0 {
                        GridKind::Pure
                    } else if g.dense.is_empty() {
                        GridKind::Postings
                    } else {
                        GridKind::Hybrid
                    },
                    base: g.base,
                    allocated: g.points,
                    live: g.live.len(),
                    dead: g.dead.len(),
                    row_capacity: g.row_cap,
                    dims,
                    heap_bytes: g.heap_bytes() as u64,
                });
            }
        }
        grids.sort_by_key(|g| g.grid);
        IndexStats {
            next_id: self.alloc.lock().next_id,
            measurements: reg.len() as u64,
            live,
            heap_bytes: grids.iter().map(|g| g.heap_bytes).sum(),
            grids,
        }
    }
}
