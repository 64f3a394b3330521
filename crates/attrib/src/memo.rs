//! Verdicts remembered across batches. Callers repeat all day (a cluster's nodes pull every few
//! minutes), so the same address meets the same registry configuration in batch after batch;
//! a decoding thread that keeps one memo decides each such combination once per run instead of
//! once per batch, and never builds the caller's facts for a batch that reads no column of
//! them. Every key is a number, so a row costs no string hashing beyond finding its address
//! and registry in the batch.

use std::net::IpAddr;
use std::sync::Arc;

use acrlens_netmap::Topology;

use crate::callers::Callers;
use crate::keytable::KeyTable;
use crate::verdict::{AccessPath, Judged, config_tail};

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Verdicts, and callers with agents, kept before the memo starts afresh: bounds its memory (a
/// decision is ~200 bytes with the part of its reason particular to it, what the columns show
/// of a caller ~300), far above the distinct callers × configurations × statuses a day of one
/// estate's logs holds.
const CAPACITY: usize = 1 << 16;

/// Registry spellings numbered before the memo starts afresh: a number must fit its 24 bits in
/// a key.
const REGISTRIES: u64 = 1 << 24;

/// What a verdict depends on besides the caller kind, packed into numbers: the caller's address;
/// the service-tag snapshot, whether it took effect after the request, the registry, the
/// position of the configuration in force in the registry's timeline, whether the request came
/// before ACR Tasks left the trusted services, and whether it has a status (one word); the
/// status. An IPv4 caller, nearly every one, fits with its status in a second word: the table
/// of such keys takes half the memory of one with room for an IPv6 address, and a look-up,
/// made for every row, misses the cache half as often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum MemoKey {
    /// An IPv4 caller: the packed word, then the address and the status.
    V4([u64; 2]),
    /// An IPv6 caller: the address, the packed word, the status.
    V6((u128, u64, u32)),
}

/// The inputs of a verdict, to be packed into a [`MemoKey`].
pub(crate) struct Inputs {
    pub address: u128,
    pub snapshot: usize,
    pub later: bool,
    pub registry: u32,
    /// The configuration in force: its position in the registry's timeline.
    pub slot: Option<usize>,
    /// The status's [`status_class`](crate::verdict::status_class).
    pub status: Option<i32>,
    pub before_tasks_change: bool,
}

impl Inputs {
    /// The key, or `None` for inputs beyond what a key holds (65,536 service-tag snapshots,
    /// 16 million registry spellings, 2 million configurations of one registry): such a request
    /// is decided without the memo.
    pub(crate) fn key(&self) -> Option<MemoKey> {
        let snapshot = u64::try_from(self.snapshot).ok().filter(|s| *s < 1 << 16)?;
        let registry = Some(u64::from(self.registry)).filter(|r| *r < REGISTRIES)?;
        let slot = match self.slot {
            None => 0,
            Some(i) => u64::try_from(i).ok().filter(|i| *i < (1 << 21) - 1)? + 1,
        };
        let packed = snapshot
            | u64::from(self.later) << 16
            | registry << 17
            | slot << 41
            | u64::from(self.before_tasks_change) << 62
            | u64::from(self.status.is_some()) << 63;
        let status = self.status.map_or(0, |s| s as u32);
        Some(match v4_of(self.address) {
            Some(v4) => MemoKey::V4([packed, u64::from(v4) << 32 | u64::from(status)]),
            None => MemoKey::V6((self.address, packed, status)),
        })
    }
}

/// A verdict as a memo holds it: the part of its sentence particular to the request, and the
/// phrase of the configuration it names, held once for all the memo's verdicts on that
/// configuration ([`Tails`]).
#[derive(Debug, PartialEq)]
pub(crate) struct Kept {
    pub path: AccessPath,
    pub head: Box<str>,
    pub tail: Option<Arc<str>>,
}

impl Kept {
    /// The sentence's end: the configuration's phrase, or nothing.
    pub(crate) fn tail(&self) -> &str {
        self.tail.as_deref().unwrap_or_default()
    }
}

/// The configurations' phrases of a memo's verdicts, one per configuration. A configuration is
/// known by its address in the topology: the memo forgets its phrases with its verdicts, and
/// always before it serves another topology.
#[derive(Default)]
pub(crate) struct Tails(HashMap<usize, Arc<str>>);

impl Tails {
    /// `judged` as the memo keeps it.
    pub(crate) fn keep(&mut self, judged: Judged<'_>) -> Kept {
        let tail = judged.config.filter(|_| !judged.head.is_empty()).map(|c| {
            self.0
                .entry(std::ptr::from_ref(c) as usize)
                .or_insert_with(|| config_tail(c).into())
                .clone()
        });
        Kept {
            path: judged.path,
            head: judged.head.into(),
            tail,
        }
    }
}

/// A remembered decision.
pub(crate) struct Remembered {
    /// The verdict for any caller that is not ACR Tasks.
    pub plain: Kept,
    /// The verdict for ACR Tasks, when it differs: only then is the caller kind worth working
    /// out for a batch that does not read it.
    pub as_task: Option<Kept>,
    /// The private endpoint the request came through (its position in the topology's).
    pub endpoint: Option<usize>,
    /// The status of the request it was made for: the one its sentences name (a request of
    /// another status of its class names its own, see
    /// [`reason_with_status`](crate::verdict::reason_with_status)).
    pub status: Option<i32>,
    /// The position among the callers of what the columns show of the caller, once a row
    /// needed it ([`UNSHOWN`] until then): a row that shows the caller reads its decision
    /// anyway for the reason, and looking the caller up in a table of its own missed the cache
    /// as often.
    pub shown: u32,
}

/// [`Remembered::shown`] of a decision whose caller no row has needed shown yet.
pub(crate) const UNSHOWN: u32 = u32::MAX;

/// A remembered decision as its table holds it: where it is, and the paths it gives, which is
/// all a row reads of it unless the reason, the endpoint or the caller is shown. Every row looks
/// its decision up; reading it from the list of decisions (a few MiB) missed the cache as often.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found {
    /// The position of the decision.
    pub index: u32,
    /// The path for any caller that is not ACR Tasks.
    pub plain: AccessPath,
    /// The path for ACR Tasks, when the verdict differs.
    pub as_task: Option<AccessPath>,
}

/// What a free slot of the memo's table holds; never read as a decision.
impl Default for Found {
    fn default() -> Self {
        Found {
            index: u32::MAX,
            plain: AccessPath::Unknown,
            as_task: None,
        }
    }
}

impl Found {
    /// What the table holds of `remembered`, at position `index`.
    pub(crate) fn of(index: u32, remembered: &Remembered) -> Self {
        Found {
            index,
            plain: remembered.plain.path,
            as_task: remembered.as_task.as_ref().map(|v| v.path),
        }
    }
}

/// Decisions of one decoding thread, kept from batch to batch, with the callers and agents it
/// met. A memo belongs to one topology and one kind of reason (with or without the sentence):
/// used with another, it starts afresh.
#[derive(Default)]
pub struct VerdictMemo {
    owner: Option<(u64, bool)>,
    registries: HashMap<Box<str>, u32>,
    v4_keys: KeyTable,
    v6_keys: HashMap<(u128, u64, u32), Found>,
    verdicts: Vec<Remembered>,
    pub(crate) tails: Tails,
    pub(crate) callers: Callers,
}

impl VerdictMemo {
    /// An empty memo.
    pub fn new() -> Self {
        VerdictMemo::default()
    }

    /// Makes the memo one for `topology` and `explain`, forgetting what it knew of another.
    pub(crate) fn serve(&mut self, topology: &Topology, explain: bool) {
        let owner = Some((topology.id(), explain));
        // What is known of callers depends on the topology alone, and outlives a start afresh
        // of the verdicts: an estate with more combinations of callers, registries and
        // statuses than the memo holds fills it again and again with the same callers.
        let forget_callers =
            self.owner.map(|(id, _)| id) != Some(topology.id()) || self.callers.len() >= CAPACITY;
        if forget_callers {
            self.callers.clear();
        }
        // The decisions hold positions among the callers: forgotten with them.
        if forget_callers
            || self.owner != owner
            || self.verdicts.len() >= CAPACITY
            || self.registries.len() as u64 >= REGISTRIES
        {
            self.v4_keys.clear();
            self.v6_keys.clear();
            self.verdicts.clear();
            self.tails.0.clear();
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

    /// The decision for `key`, made by `decide` when the memo does not hold it. Positions
    /// hold until the memo serves the next batch.
    pub(crate) fn find(
        &mut self,
        key: MemoKey,
        decide: impl FnOnce(&mut Tails) -> Remembered,
    ) -> Found {
        let (verdicts, tails) = (&mut self.verdicts, &mut self.tails);
        let add = || {
            let remembered = decide(tails);
            let found = Found::of(verdicts.len() as u32, &remembered);
            verdicts.push(remembered);
            found
        };
        match key {
            MemoKey::V4(key) => self.v4_keys.find_or_add(key, add),
            MemoKey::V6(key) => *self.v6_keys.entry(key).or_insert_with(add),
        }
    }

    /// Brings where `keys` are held into the cache, for [`VerdictMemo::find`]s of them soon
    /// after.
    pub(crate) fn touch(&mut self, keys: impl Iterator<Item = MemoKey> + Clone) {
        self.v4_keys.touch(keys.filter_map(|key| match key {
            MemoKey::V4(key) => Some(key),
            MemoKey::V6(_) => None,
        }));
    }

    /// The position among the callers of what the columns show of the caller of the decision
    /// at `index`, found by `position` the first time a row of the decision needs it.
    pub(crate) fn shown(&mut self, index: u32, position: impl FnOnce(&mut Callers) -> u32) -> u32 {
        let remembered = &mut self.verdicts[index as usize];
        if remembered.shown == UNSHOWN {
            remembered.shown = position(&mut self.callers);
        }
        remembered.shown
    }

    /// The decision at a position [`VerdictMemo::find`] gave.
    pub(crate) fn get(&self, index: u32) -> &Remembered {
        &self.verdicts[index as usize]
    }
}

/// The IPv4 address of an [`address_key`] that holds one.
fn v4_of(address: u128) -> Option<u32> {
    (address >> 32 == 0xffff).then_some(address as u32)
}

/// An address as one number: IPv4 as IPv4-mapped IPv6, so both families share one key space.
pub(crate) fn address_key(ip: IpAddr) -> u128 {
    match ip.to_canonical() {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> u128 {
        address_key(text.parse().unwrap_or(IpAddr::from([0; 4])))
    }

    fn inputs() -> Inputs {
        Inputs {
            address: address("203.0.113.7"),
            snapshot: 3,
            later: false,
            registry: 9,
            slot: Some(0),
            status: Some(200),
            before_tasks_change: false,
        }
    }

    #[test]
    fn every_input_tells_keys_apart() {
        let base = inputs().key();
        let variants = [
            Inputs {
                snapshot: 4,
                ..inputs()
            },
            Inputs {
                later: true,
                ..inputs()
            },
            Inputs {
                registry: 10,
                ..inputs()
            },
            Inputs {
                registry: (1 << 24) - 1,
                ..inputs()
            },
            Inputs {
                slot: None,
                ..inputs()
            },
            Inputs {
                slot: Some(1),
                ..inputs()
            },
            Inputs {
                status: None,
                ..inputs()
            },
            Inputs {
                status: Some(0),
                ..inputs()
            },
            Inputs {
                status: Some(-200),
                ..inputs()
            },
            Inputs {
                before_tasks_change: true,
                ..inputs()
            },
            Inputs {
                address: address("::ffff:203.0.113.8"),
                ..inputs()
            },
            // IPv6 callers, one of them sharing its last 32 bits with the IPv4 caller.
            Inputs {
                address: address("2001:db8::cb00:7107"),
                ..inputs()
            },
            Inputs {
                address: address("2001:db8::cb00:7107"),
                status: Some(404),
                ..inputs()
            },
        ];
        let mut keys: Vec<MemoKey> = variants.iter().filter_map(Inputs::key).collect();
        keys.extend(base);
        let count = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(
            (count, keys.len()),
            (variants.len() + 1, variants.len() + 1)
        );
    }

    #[test]
    fn inputs_beyond_a_key_are_decided_without_the_memo() {
        assert_eq!(
            Inputs {
                snapshot: 1 << 16,
                ..inputs()
            }
            .key(),
            None
        );
        assert_eq!(
            Inputs {
                registry: 1 << 24,
                ..inputs()
            }
            .key(),
            None
        );
        assert_eq!(
            Inputs {
                slot: Some(1 << 21),
                ..inputs()
            }
            .key(),
            None
        );
        assert!(
            Inputs {
                slot: Some((1 << 21) - 2),
                ..inputs()
            }
            .key()
            .is_some()
        );
    }
}
