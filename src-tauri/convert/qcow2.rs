//! A raw disk as a qcow2 (version 3, 64 KiB clusters, 16-bit refcounts), written as a stream.
//!
//! Layout, in clusters: the header; the L1 table; the refcount table; the refcount blocks;
//! one L2 table for each 512 MiB of disk that holds data; then the data clusters in the disk's
//! order. Clusters of zeros (holes, or written zeros) are left unallocated, which a qcow2
//! without a backing file reads as zeros. Every cluster the file holds has refcount 1 and
//! carries the "copied" flag, as `qemu-img convert` writes them; nothing else is allocated, so
//! `qemu-img check` finds no leak and no error.
//!
//! [`Plan::scan`] reads the disk's allocated ranges once to find the clusters with data; a
//! [`Qcow2Reader`] then produces the file from the plan and the disk, one cluster at a time.

use std::fs::File;
use std::io::{self, Read};

pub const CLUSTER_BITS: u32 = 16;
pub const CLUSTER: u64 = 1 << CLUSTER_BITS;
const L2_ENTRIES: u64 = CLUSTER / 8;
const REFCOUNT_ORDER: u32 = 4;
const REFCOUNTS_PER_BLOCK: u64 = CLUSTER * 8 / (1 << REFCOUNT_ORDER);
/// L1/L2 entry flag: the cluster's refcount is exactly one.
const COPIED: u64 = 1 << 63;
const HEADER_LENGTH: u32 = 104;

/// The layout of the qcow2 for one raw disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The disk's size, rounded up to whole 512-byte sectors.
    pub virtual_size: u64,
    /// The raw file's own length.
    raw_len: u64,
    /// One bit per guest cluster: set when it holds anything but zeros.
    allocated: Vec<u64>,
    data_clusters: u64,
    l1_size: u64,
    l1_clusters: u64,
    refcount_table_clusters: u64,
    refcount_blocks: u64,
    /// For each L2 table, in order: its L1 index, and how many data clusters come before its
    /// first one.
    l2: Vec<(u64, u64)>,
    /// Clusters of the file after the L2 tables: the data.
    data_region: u64,
    /// With compression: where each data cluster went, and the data region's refcounts.
    packed: Option<Packed>,
}

/// The data region of a compressed qcow2: each data cluster (in the disk's order) either
/// deflated and packed byte by byte after the one before, or, when deflate does not make it
/// smaller, stored whole at the next cluster boundary (as `qemu-img convert -c` does).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Packed {
    /// Compressed length of each data cluster; 0: stored whole.
    lens: Vec<u32>,
    /// Byte offset of each in the data region.
    offsets: Vec<u64>,
    /// How many data clusters touch each cluster of the region.
    refcounts: Vec<u16>,
}

impl Packed {
    fn lay_out(lens: Vec<u32>) -> Packed {
        let (mut at, mut offsets, mut refcounts) = (0u64, Vec::with_capacity(lens.len()), Vec::new());
        for &l in &lens {
            let size = if l == 0 {
                at = at.next_multiple_of(CLUSTER);
                CLUSTER
            } else {
                u64::from(l)
            };
            offsets.push(at);
            let last = ((at + size - 1) / CLUSTER) as usize;
            if refcounts.len() <= last {
                refcounts.resize(last + 1, 0);
            }
            for r in &mut refcounts[(at / CLUSTER) as usize..=last] {
                *r += 1;
            }
            at += size;
        }
        Packed { lens, offsets, refcounts }
    }

    fn clusters(&self) -> u64 {
        self.refcounts.len() as u64
    }
}

/// Deflate one cluster as qemu's qcow2 driver does (raw deflate, a 4 KiB window, the default
/// level), into `out`; `None` when the result would not be smaller than the cluster.
fn deflate(data: &[u8], out: &mut Vec<u8>) -> io::Result<Option<usize>> {
    use flate2::{Compress, Compression, FlushCompress, Status};
    let mut z = Compress::new_with_window_bits(Compression::default(), false, 12);
    out.clear();
    out.reserve(CLUSTER as usize);
    match z.compress_vec(data, out, FlushCompress::Finish).map_err(io::Error::other)? {
        Status::StreamEnd if out.len() < CLUSTER as usize => Ok(Some(out.len())),
        _ => Ok(None),
    }
}

impl Plan {
    /// Find the clusters of `file` (`len` bytes) that hold data: only its allocated ranges are
    /// read, and a cluster that reads as all zeros is left out.
    pub fn scan(file: &File, len: u64) -> io::Result<Plan> {
        Plan::scan_with(file, len, false)
    }

    /// [`Plan::scan`], and with `compress` each data cluster deflated once to learn its size
    /// (the stream deflates it again: the layout must be known before the first byte).
    pub fn scan_with(file: &File, len: u64, compress: bool) -> io::Result<Plan> {
        let virtual_size = len.div_ceil(512) * 512;
        let guest_clusters = virtual_size.div_ceil(CLUSTER);
        let mut allocated = vec![0u64; guest_clusters.div_ceil(64) as usize];
        let mut buf = vec![0u8; CLUSTER as usize];
        let (mut lens, mut out) = (Vec::new(), Vec::new());
        let mut last = None;
        for (start, end) in data_ranges(file, len)? {
            for c in start / CLUSTER..end.div_ceil(CLUSTER) {
                if last == Some(c) {
                    continue;
                }
                last = Some(c);
                let n = read_cluster(file, len, c, &mut buf)?;
                if buf[..n].iter().any(|b| *b != 0) {
                    allocated[(c / 64) as usize] |= 1 << (c % 64);
                    if compress {
                        lens.push(deflate(&buf, &mut out)?.unwrap_or(0) as u32);
                    }
                }
            }
        }
        Ok(Plan::from_map(virtual_size, len, allocated, compress.then(|| Packed::lay_out(lens))))
    }

    /// The layout for a disk of `raw_len` bytes whose data clusters are the bits of `allocated`.
    fn from_map(virtual_size: u64, raw_len: u64, allocated: Vec<u64>, packed: Option<Packed>) -> Plan {
        let guest_clusters = virtual_size.div_ceil(CLUSTER);
        let l1_size = guest_clusters.div_ceil(L2_ENTRIES).max(1);
        let l1_clusters = (l1_size * 8).div_ceil(CLUSTER);
        let mut l2 = Vec::new();
        let mut data_clusters = 0;
        for table in 0..l1_size {
            let (from, to) = (table * L2_ENTRIES, ((table + 1) * L2_ENTRIES).min(guest_clusters));
            let n = count_bits(&allocated, from, to);
            if n > 0 {
                l2.push((table, data_clusters));
                data_clusters += n;
            }
        }
        // The refcount blocks count every cluster, their own and their table's included.
        let data_region = packed.as_ref().map_or(data_clusters, Packed::clusters);
        let fixed = 1 + l1_clusters + l2.len() as u64 + data_region;
        let (mut blocks, mut table) = (1, 1);
        loop {
            let total = fixed + table + blocks;
            let need_blocks = total.div_ceil(REFCOUNTS_PER_BLOCK);
            let need_table = (need_blocks * 8).div_ceil(CLUSTER);
            if (need_blocks, need_table) == (blocks, table) {
                break;
            }
            (blocks, table) = (need_blocks.max(blocks), need_table.max(table));
        }
        Plan {
            virtual_size,
            raw_len,
            allocated,
            data_clusters,
            l1_size,
            l1_clusters,
            refcount_table_clusters: table,
            refcount_blocks: blocks,
            l2,
            data_region,
            packed,
        }
    }

    fn refcount_table_at(&self) -> u64 {
        1 + self.l1_clusters
    }

    fn refcount_blocks_at(&self) -> u64 {
        self.refcount_table_at() + self.refcount_table_clusters
    }

    fn l2_at(&self) -> u64 {
        self.refcount_blocks_at() + self.refcount_blocks
    }

    fn data_at(&self) -> u64 {
        self.l2_at() + self.l2.len() as u64
    }

    /// Clusters in the qcow2 file.
    pub fn clusters(&self) -> u64 {
        self.data_at() + self.data_region
    }

    /// Whether the data clusters are deflated.
    pub fn compressed(&self) -> bool {
        self.packed.is_some()
    }

    /// The qcow2 file's length: what is sent.
    pub fn len(&self) -> u64 {
        self.clusters() * CLUSTER
    }

    /// Never: a qcow2 holds at least its header, tables and refcounts.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Bytes of the disk that hold data (whole clusters).
    pub fn data_bytes(&self) -> u64 {
        self.data_clusters * CLUSTER
    }

    fn is_allocated(&self, c: u64) -> bool {
        bit(&self.allocated, c)
    }

    /// The next guest cluster holding data, from `*next` on, read into `buf`; `*next` moves
    /// past it.
    fn read_next_data(&self, disk: &File, next: &mut u64, buf: &mut [u8]) -> io::Result<()> {
        while !self.is_allocated(*next) {
            *next += 1;
        }
        read_cluster(disk, self.raw_len, *next, buf)?;
        *next += 1;
        Ok(())
    }

    /// Cluster `n` of the qcow2 file into `out` (`CLUSTER` bytes); for a data cluster, `disk`
    /// is read. `next_data` walks the data clusters in order across calls.
    fn cluster(&self, n: u64, out: &mut [u8], disk: &File, next_data: &mut u64) -> io::Result<()> {
        out.fill(0);
        if n == 0 {
            self.header(out);
        } else if n < self.refcount_table_at() {
            // The L1 table: an entry for each 512 MiB of disk; its L2 table's offset, or 0.
            let first = (n - 1) * L2_ENTRIES;
            for (i, (table, _)) in self.l2.iter().enumerate() {
                if (first..first + L2_ENTRIES).contains(table) {
                    let at = ((table - first) * 8) as usize;
                    let offset = (self.l2_at() + i as u64) * CLUSTER;
                    out[at..at + 8].copy_from_slice(&(offset | COPIED).to_be_bytes());
                }
            }
        } else if n < self.refcount_blocks_at() {
            let first = (n - self.refcount_table_at()) * L2_ENTRIES;
            for b in first..(first + L2_ENTRIES).min(self.refcount_blocks) {
                let at = ((b - first) * 8) as usize;
                out[at..at + 8].copy_from_slice(&((self.refcount_blocks_at() + b) * CLUSTER).to_be_bytes());
            }
        } else if n < self.l2_at() {
            let first = (n - self.refcount_blocks_at()) * REFCOUNTS_PER_BLOCK;
            let last = (first + REFCOUNTS_PER_BLOCK).min(self.clusters());
            for c in first..last {
                let at = ((c - first) * 2) as usize;
                let count = match &self.packed {
                    Some(p) if c >= self.data_at() => p.refcounts[(c - self.data_at()) as usize],
                    _ => 1,
                };
                out[at..at + 2].copy_from_slice(&count.to_be_bytes());
            }
        } else if n < self.data_at() {
            let (table, mut rank) = self.l2[(n - self.l2_at()) as usize];
            let guest = self.virtual_size.div_ceil(CLUSTER);
            for g in table * L2_ENTRIES..((table + 1) * L2_ENTRIES).min(guest) {
                if self.is_allocated(g) {
                    let at = ((g - table * L2_ENTRIES) * 8) as usize;
                    out[at..at + 8].copy_from_slice(&self.l2_entry(rank).to_be_bytes());
                    rank += 1;
                }
            }
        } else {
            self.read_next_data(disk, next_data, out)?;
        }
        Ok(())
    }

    /// The L2 entry of the data cluster of rank `r`: a whole cluster (refcount 1, "copied"), or
    /// a compressed one (its byte offset and the 512-byte sectors it spans after the first).
    fn l2_entry(&self, r: u64) -> u64 {
        let region = self.data_at() * CLUSTER;
        match &self.packed {
            None => (region + r * CLUSTER) | COPIED,
            Some(p) => {
                let (offset, len) = (region + p.offsets[r as usize], u64::from(p.lens[r as usize]));
                if len == 0 {
                    return offset | COPIED;
                }
                let sectors = ((offset + len - 1) >> 9) - (offset >> 9);
                (1 << 62) | (sectors << (62 - (CLUSTER_BITS - 8))) | offset
            }
        }
    }

    fn header(&self, out: &mut [u8]) {
        let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, b"QFI\xfb");
        put(4, &3u32.to_be_bytes());
        put(20, &CLUSTER_BITS.to_be_bytes());
        put(24, &self.virtual_size.to_be_bytes());
        put(36, &(self.l1_size as u32).to_be_bytes());
        put(40, &CLUSTER.to_be_bytes());
        put(48, &(self.refcount_table_at() * CLUSTER).to_be_bytes());
        put(56, &(self.refcount_table_clusters as u32).to_be_bytes());
        put(96, &REFCOUNT_ORDER.to_be_bytes());
        put(100, &HEADER_LENGTH.to_be_bytes());
        // No header extensions: the end marker (type 0, length 0) follows, already zero.
    }
}

/// Is bit `c` of the cluster map set?
fn bit(words: &[u64], c: u64) -> bool {
    words.get((c / 64) as usize).is_some_and(|w| w & (1 << (c % 64)) != 0)
}

fn count_bits(words: &[u64], from: u64, to: u64) -> u64 {
    (from..to).filter(|&c| bit(words, c)).count() as u64
}

/// Read guest cluster `c` of the raw disk into `buf` (zeros past its end); returns the bytes
/// the disk holds there.
fn read_cluster(file: &File, len: u64, c: u64, buf: &mut [u8]) -> io::Result<usize> {
    let at = c * CLUSTER;
    let n = (len.saturating_sub(at)).min(CLUSTER) as usize;
    buf.fill(0);
    read_exact_at(file, &mut buf[..n], at)?;
    Ok(n)
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut at: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, at)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

/// Bytes of `file` in its allocated ranges (what the file system holds, not the holes): at
/// most what a conversion sends as data. Cheap: no data is read.
pub fn allocated_bytes(file: &File, len: u64) -> io::Result<u64> {
    Ok(data_ranges(file, len)?.iter().map(|(a, b)| b - a).sum())
}

/// The ranges of `file` that may hold data, from `SEEK_DATA`/`SEEK_HOLE` where the file system
/// answers them; else the whole file.
#[cfg(target_os = "linux")]
fn data_ranges(file: &File, len: u64) -> io::Result<Vec<(u64, u64)>> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    let mut out = Vec::new();
    let mut at: u64 = 0;
    while at < len {
        // SAFETY: lseek on a descriptor we own; it only moves the file offset.
        let data = unsafe { libc::lseek(fd, at as libc::off_t, libc::SEEK_DATA) };
        if data < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                // No data from here to the end.
                Some(libc::ENXIO) => Ok(out),
                // The file system cannot tell: all of it may be data.
                Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) if out.is_empty() => Ok(vec![(0, len)]),
                _ => Err(e),
            };
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
        if hole < 0 {
            return Err(io::Error::last_os_error());
        }
        let (data, hole) = (data as u64, (hole as u64).min(len));
        if hole > data {
            out.push((data, hole));
        }
        at = hole.max(data + 1);
    }
    Ok(out)
}

#[cfg(not(target_os = "linux"))]
fn data_ranges(_file: &File, len: u64) -> io::Result<Vec<(u64, u64)>> {
    Ok(vec![(0, len)])
}

/// The qcow2 file of a [`Plan`], produced as it is read.
pub struct Qcow2Reader {
    plan: Plan,
    disk: File,
    next: u64,
    next_data: u64,
    buf: Vec<u8>,
    at: usize,
    /// A compressed data region's bytes made and not yet given out, and the rank of the next
    /// data cluster to deflate.
    pending: Vec<u8>,
    made: u64,
    rank: usize,
    /// A data cluster as read, and deflated: kept between calls (one cluster each).
    raw: Vec<u8>,
    deflated: Vec<u8>,
}

impl Qcow2Reader {
    pub fn new(plan: Plan, disk: File) -> Qcow2Reader {
        let at = CLUSTER as usize;
        let raw = if plan.compressed() { vec![0; at] } else { Vec::new() };
        Qcow2Reader {
            plan,
            disk,
            next: 0,
            next_data: 0,
            buf: vec![0; at],
            at,
            pending: Vec::new(),
            made: 0,
            rank: 0,
            raw,
            deflated: Vec::new(),
        }
    }

    /// The next cluster of a compressed data region: data clusters deflated (or stored whole)
    /// at the offsets the plan gave them, zeros between.
    fn packed_cluster(&mut self) -> io::Result<()> {
        let p = self.plan.packed.as_ref().expect("a compressed plan");
        while (self.pending.len() as u64) < CLUSTER && self.rank < p.lens.len() {
            self.plan.read_next_data(&self.disk, &mut self.next_data, &mut self.raw)?;
            let (offset, len) = (p.offsets[self.rank], p.lens[self.rank] as usize);
            let bytes: &[u8] = if len == 0 {
                &self.raw
            } else {
                match deflate(&self.raw, &mut self.deflated)? {
                    Some(n) if n == len => &self.deflated,
                    _ => return Err(io::Error::other("the disk changed while it was being sent")),
                }
            };
            self.pending.resize(self.pending.len() + (offset - self.made) as usize, 0);
            self.pending.extend_from_slice(bytes);
            self.made = offset + bytes.len() as u64;
            self.rank += 1;
        }
        let n = self.pending.len().min(CLUSTER as usize);
        self.buf.fill(0);
        self.buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(())
    }
}

impl Read for Qcow2Reader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.buf.len() {
            if self.next == self.plan.clusters() {
                return Ok(0);
            }
            if self.plan.compressed() && self.next >= self.plan.data_at() {
                self.packed_cluster()?;
            } else {
                self.plan.cluster(self.next, &mut self.buf, &self.disk, &mut self.next_data)?;
            }
            self.next += 1;
            self.at = 0;
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(guest_clusters: u64, set: &[u64]) -> Vec<u64> {
        let mut words = vec![0u64; guest_clusters.div_ceil(64) as usize];
        for c in set {
            words[(c / 64) as usize] |= 1 << (c % 64);
        }
        words
    }

    #[test]
    fn the_layout_counts_every_cluster_once() {
        // 1 GiB with data in the first and the last cluster: two L2 tables (512 MiB each).
        let gib = 1u64 << 30;
        let p = Plan::from_map(gib, gib, map(gib / CLUSTER, &[0, gib / CLUSTER - 1]), None);
        assert_eq!((p.l1_size, p.l1_clusters, p.l2.len(), p.data_clusters), (2, 1, 2, 2));
        assert_eq!((p.refcount_table_clusters, p.refcount_blocks), (1, 1));
        // header, L1, refcount table, refcount block, two L2 tables, two data clusters.
        assert_eq!(p.clusters(), 8);
        assert_eq!(p.l2, [(0, 0), (1, 1)]);
        // Nothing at all: still a header, an L1 table and the refcounts.
        let empty = Plan::from_map(gib, gib, map(gib / CLUSTER, &[]), None);
        assert_eq!(empty.clusters(), 4);
        // 64 GiB mostly empty: the map is 128 KiB, the file a few clusters.
        let big = 64 * gib;
        let sparse = Plan::from_map(big, big, map(big / CLUSTER, &[5, 1 << 19]), None);
        assert_eq!(sparse.allocated.len() * 8, 128 << 10);
        assert_eq!((sparse.l1_size, sparse.l2.len(), sparse.clusters()), (128, 2, 1 + 1 + 1 + 1 + 2 + 2));
    }

    #[test]
    fn compressed_clusters_are_packed_and_whole_ones_aligned() {
        // 100 and 200 bytes packed, then one stored whole at the next boundary, then 70 more.
        let p = Packed::lay_out(vec![100, 200, 0, 70]);
        assert_eq!(p.offsets, [0, 100, CLUSTER, 2 * CLUSTER]);
        assert_eq!(p.refcounts, [2, 1, 1]);
        // A compressed cluster across a boundary counts in both.
        let p = Packed::lay_out(vec![(CLUSTER - 10) as u32, 100]);
        assert_eq!(p.refcounts, [2, 1]);
    }

    #[test]
    fn the_allocated_bytes_of_a_sparse_file() {
        use std::io::{Seek, Write};
        let dir = tempfile::tempdir().unwrap();
        let mut f = File::create(dir.path().join("s.raw")).unwrap();
        f.set_len(64 << 20).unwrap();
        f.seek(io::SeekFrom::Start(8 << 20)).unwrap();
        f.write_all(&[1u8; 1 << 20]).unwrap();
        f.sync_all().unwrap();
        let got = allocated_bytes(&f, 64 << 20).unwrap();
        // The file system allocates in its own blocks: about 1 MiB, far from 64.
        assert!(((1 << 20)..(2 << 20)).contains(&got), "{got}");
    }

    #[test]
    fn enough_refcount_blocks_for_a_disk_full_of_data() {
        // 4 GiB fully allocated: 65536 data clusters need three refcount blocks.
        let size = 4u64 << 30;
        let all: Vec<u64> = (0..size / CLUSTER).collect();
        let p = Plan::from_map(size, size, map(size / CLUSTER, &all), None);
        assert!(p.refcount_blocks * REFCOUNTS_PER_BLOCK >= p.clusters());
        assert!((p.refcount_blocks - 1) * REFCOUNTS_PER_BLOCK < p.clusters());
        assert_eq!(p.data_clusters, 65536);
    }
}
