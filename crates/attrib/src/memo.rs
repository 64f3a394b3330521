//! Verdicts remembered across batches. Callers repeat all day (a cluster's nodes pull every few
//! minutes), so the same address meets the same registry configuration in batch after batch;
//! a decoding thread that keeps one memo decides each such combination once per run instead of
//! once per batch, and never builds the caller's facts for a batch that reads no column of
//! them. Every key is a number, so a row costs no string hashing beyond finding its address
//! and registry in the batch.

use std::net::IpAddr;

use acrlens_netmap::Topology;

use crate::verdict::Verdict;

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Verdicts kept before the memo starts afresh: bounds its memory (a reason is ~150 bytes), far
/// above the distinct callers × configurations × statuses a day of one estate's logs holds.
const CAPACITY: usize = 1 << 16;

/// What a verdict depends on besides the caller kind: the caller's address (IPv4 mapped into
/// IPv6), the service-tag snapshot and whether it took effect after the request, the registry,
/// the configuration in force (its address in the topology; 0 when none), the status, and
/// whether the request came before ACR Tasks left the trusted services.
pub(crate) type MemoKey = (u128, usize, bool, u32, (u8, usize), Option<i32>, bool);

/// A remembered decision.
pub(crate) struct Remembered {
    /// The verdict for any caller that is not ACR Tasks.
    pub plain: Verdict,
    /// The verdict for ACR Tasks, when it differs: only then is the caller kind worth working
    /// out for a batch that does not read it.
    pub as_task: Option<Verdict>,
    /// The private endpoint the request came through (its position in the topology's).
    pub endpoint: Option<usize>,
}

/// Decisions of one decoding thread, kept from batch to batch. A memo belongs to one topology
/// and one kind of reason (with or without the sentence): used with another, it starts afresh.
#[derive(Default)]
pub struct VerdictMemo {
    owner: (usize, bool),
    registries: HashMap<Box<str>, u32>,
    verdicts: HashMap<MemoKey, Remembered>,
}

impl VerdictMemo {
    /// An empty memo.
    pub fn new() -> Self {
        VerdictMemo::default()
    }

    /// Makes the memo one for `topology` and `explain`, forgetting what it knew of another.
    pub(crate) fn serve(&mut self, topology: &Topology, explain: bool) {
        let owner = (topology as *const Topology as usize, explain);
        if self.owner != owner || self.verdicts.len() >= CAPACITY {
            self.verdicts.clear();
            self.registries.clear();
            self.owner = owner;
        }
    }

    /// The number of a registry, as spelt in the logs.
    pub(crate) fn registry(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.registries.get(name) {
            return id;
        }
        let id = self.registries.len() as u32;
        self.registries.insert(name.into(), id);
        id
    }

    /// The decision for `key`, made by `decide` when the memo does not hold it.
    pub(crate) fn decision(
        &mut self,
        key: MemoKey,
        decide: impl FnOnce() -> Remembered,
    ) -> &Remembered {
        self.verdicts.entry(key).or_insert_with(decide)
    }
}

/// An address as one number: IPv4 as IPv4-mapped IPv6, so both families share one key space.
pub(crate) fn address_key(ip: IpAddr) -> u128 {
    match ip.to_canonical() {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}
