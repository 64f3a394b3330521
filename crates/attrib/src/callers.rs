//! What a decoding thread knows of callers, kept from batch to batch: each caller's facts as
//! the attribution columns show them, and what each user agent says about the caller's kind.
//!
//! A batch of ~9,000 rows meets most of its callers once or twice, so facts looked up once per
//! batch were looked up for nearly every row (the service-tag and subnet index, the GeoIP
//! databases, a few strings allocated), and the kind worked out again for every row's agent.
//! Kept by the thread, they are looked up once per caller and snapshot for the whole run.

use std::net::IpAddr;

use acrlens_netmap::{IpFacts, IpScope, Topology};

use crate::kind::{AddressTraits, AgentTraits};
use crate::memo::address_key;

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A caller's facts as the attribution columns show them, owned: the facts themselves borrow
/// the topology, and the thread's memo outlives every borrow of it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shown {
    pub scope: IpScope,
    pub vnet: Option<Box<str>>,
    pub subnet: Option<Box<str>>,
    pub named_range: Option<Box<str>>,
    /// Every matching service tag, most specific first.
    pub service_tags: Box<[Box<str>]>,
    pub azure_service: Option<Box<str>>,
    pub azure_region: Option<Box<str>>,
    pub tags_version: Option<i64>,
    pub country: Option<Box<str>>,
    pub asn: Option<i64>,
    pub as_org: Option<Box<str>>,
    /// What the facts say about the caller's kind.
    pub traits: AddressTraits,
}

impl Shown {
    /// What the columns show of `facts`.
    pub(crate) fn of(facts: &IpFacts<'_>) -> Self {
        let text = |s: &str| Box::<str>::from(s);
        Shown {
            scope: facts.scope,
            vnet: facts.subnet.map(|s| text(&s.vnet)),
            subnet: facts.subnet.map(|s| text(&s.name)),
            named_range: facts.range.map(|r| text(&r.name)),
            service_tags: facts.tags.iter().map(|t| text(&t.name)).collect(),
            azure_service: facts.service().map(|t| text(&t.system_service)),
            azure_region: facts
                .tags
                .iter()
                .find(|t| !t.region.is_empty())
                .map(|t| text(&t.region)),
            tags_version: facts.snapshot.map(|s| s.change_number as i64),
            country: facts.geo.country.as_deref().map(text),
            asn: facts.geo.asn.map(i64::from),
            as_org: facts.geo.as_org.as_deref().map(text),
            traits: AddressTraits::of(Some(facts)),
        }
    }

    /// The most specific service tag.
    pub(crate) fn service_tag(&self) -> Option<&str> {
        self.service_tags.first().map(|t| &**t)
    }
}

/// The callers and agents one thread has met since its memo last started afresh.
#[derive(Default)]
pub(crate) struct Callers {
    positions: HashMap<(u128, usize, bool), u32>,
    shown: Vec<Shown>,
    agents: HashMap<Box<str>, AgentTraits>,
}

impl Callers {
    /// How many callers are held: the memo starts afresh past its bound.
    pub(crate) fn len(&self) -> usize {
        self.shown.len() + self.agents.len()
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.positions.clear();
        self.shown.clear();
        self.agents.clear();
    }

    /// The position of what the columns show of `ip` under service-tag snapshot `snapshot`
    /// (taking effect after the request when `later`) at `time`. Positions hold until the memo
    /// serves the next batch.
    pub(crate) fn position(
        &mut self,
        topology: &Topology,
        ip: IpAddr,
        (snapshot, later): (usize, bool),
        time: i64,
    ) -> u32 {
        let key = (address_key(ip), snapshot, later);
        let shown = &mut self.shown;
        *self.positions.entry(key).or_insert_with(|| {
            shown.push(Shown::of(&topology.facts(ip, time)));
            (shown.len() - 1) as u32
        })
    }

    /// What [`Callers::position`] gave a position for.
    pub(crate) fn get(&self, position: u32) -> &Shown {
        &self.shown[position as usize]
    }

    /// What a user agent says about its caller's kind.
    pub(crate) fn agent(&mut self, user_agent: Option<&str>) -> AgentTraits {
        let Some(agent) = user_agent else {
            return AgentTraits::of(None);
        };
        if let Some(traits) = self.agents.get(agent) {
            return *traits;
        }
        let traits = AgentTraits::of(Some(agent));
        self.agents.insert(agent.into(), traits);
        traits
    }
}
