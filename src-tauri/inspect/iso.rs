//! ISO 9660: a primary volume descriptor at sector 16. A hybrid ISO (with an MBR or GPT for
//! USB sticks) is still an ISO, as Glance treats it.

use super::{le16, le32, Inspection, Source};

pub fn inspect(src: &mut dyn Source) -> std::io::Result<Option<Inspection>> {
    let len = src.len();
    // Volume descriptors start at sector 16; the primary one is usually first.
    for sector in 16..20u64 {
        let d = src.read_at(sector * 2048, 2048)?;
        if d.len() < 2048 || &d[1..6] != b"CD001" {
            return Ok(None);
        }
        match d[0] {
            1 => {
                let mut i = Inspection::new("iso", len);
                let blocks = le32(&d, 80).unwrap_or(0) as u64;
                let block = le16(&d, 128).unwrap_or(0) as u64;
                i.virtual_size = Some(blocks * block);
                let label = String::from_utf8_lossy(&d[40..72]).trim().to_owned();
                if !label.is_empty() {
                    i.detail("volume label", label);
                }
                return Ok(Some(i));
            }
            255 => return Ok(None),
            _ => continue,
        }
    }
    Ok(None)
}
