//! VHD (qemu's "vpc"): the 512-byte footer copy at the start of a dynamic disk. (A fixed disk
//! has its footer only at the end; Glance and qemu read such a file as raw, and so do we.)

use super::{be32, be64, Inspection};

/// Creator applications whose `current_size` qemu trusts; for others it uses the CHS geometry.
const TRUSTS_CURRENT_SIZE: &[&[u8; 4]] = &[b"win ", b"qem2", b"d2v ", b"CTXS", b"tap\0", b"vpc "];

pub fn inspect(footer: &[u8], len: u64) -> Inspection {
    let mut i = Inspection::new("vhd", len);
    let (Some(current), Some(kind)) = (be64(footer, 48), be32(footer, 60)) else {
        i.refuse("the vhd footer is truncated");
        return i;
    };
    let creator: [u8; 4] = footer[28..32].try_into().unwrap_or([0; 4]);
    let cyl = u16::from_be_bytes([footer[56], footer[57]]) as u64;
    let (heads, spt) = (footer[58] as u64, footer[59] as u64);
    let chs = cyl * heads * spt * 512;
    let max_chs = 65535 * 16 * 255 * 512;
    i.virtual_size =
        Some(if TRUSTS_CURRENT_SIZE.iter().any(|c| **c == creator) || chs >= max_chs { current } else { chs });
    i.detail("creator", String::from_utf8_lossy(&creator).trim_end_matches('\0'));
    match kind {
        2 => i.detail("type", "fixed"),
        3 => i.detail("type", "dynamic"),
        4 => i.detail("type", "differencing (needs its parent disk)"),
        n => i.refuse(format!("unknown vhd disk type {n}")),
    }
    if kind == 2 && current.checked_add(512) != Some(len) {
        i.refuse(format!("inconsistent footer: a fixed disk of {current} bytes in a {len}-byte file"));
    }
    i
}
