//! Send the data, not the zeros: a raw disk turned into another format while it streams.
//!
//! [`qcow2`]: the raw disk's allocated ranges (`SEEK_DATA`/`SEEK_HOLE`) are read once up front
//! to find the clusters that hold anything but zeros; from that map the whole qcow2 layout
//! (header, L1 table, refcounts, L2 tables, data) is known before the first byte, so its length
//! can be announced (`Content-Length`) and it streams in one pass with no temporary file and
//! memory that does not grow with the disk (one bit per 64 KiB of disk, one cluster of
//! output at a time). With compression each data cluster is deflated (as `qemu-img convert
//! -c` does) twice: once up front to learn its size, once as it streams.

pub mod qcow2;

/// What a raw disk can be converted to on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Qcow2,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Qcow2 => "qcow2",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "qcow2" => Ok(Format::Qcow2),
            other => Err(format!("'{other}': only a raw disk's conversion to qcow2 is offered")),
        }
    }
}
