//! The fuzz harness's body, shared by the fuzz target and the corpus replay in
//! tests/inspect.rs: the first byte picks where the input lands (after which magic, at which
//! offset); the inspection must not panic, and every read must stay within the budget.

use stackdrop::inspect::{inspect, Source, MAX_READ};

struct Counting<'a> {
    data: &'a [u8],
    spent: usize,
}

impl Source for Counting<'_> {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }
    fn read_at(&mut self, offset: u64, n: usize) -> std::io::Result<Vec<u8>> {
        assert!(n <= MAX_READ, "a read of {n} bytes");
        self.spent += n;
        assert!(self.spent <= 8 << 20, "reads add up to {} bytes", self.spent);
        let mut d = self.data;
        d.read_at(offset, n)
    }
}

pub fn check(input: &[u8]) {
    let Some((&selector, body)) = input.split_first() else { return };
    let mut data = Vec::with_capacity(body.len() + 200_000);
    match selector % 9 {
        0 => data.extend_from_slice(b"QFI\xfb"),
        1 => data.extend_from_slice(b"KDMV"),
        2 => data.extend_from_slice(b"# Disk DescriptorFile\n"),
        3 => data.extend_from_slice(b"conectix"),
        4 => data.extend_from_slice(b"vhdxfile"),
        5 => {
            data.resize(0x40, b'<');
            data.extend_from_slice(&0xbeda107fu32.to_le_bytes());
        }
        6 => {
            data.resize(16 * 2048, 0);
            data.extend_from_slice(b"\x01CD001");
        }
        7 => {
            // vhdx with the fuzzed bytes at the region table.
            data.extend_from_slice(b"vhdxfile");
            data.resize(192 * 1024, 0);
            data.extend_from_slice(b"regi");
        }
        _ => {}
    }
    data.extend_from_slice(body);
    let _ = inspect(&mut Counting { data: &data, spent: 0 });
}
