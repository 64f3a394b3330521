//! GeoIP and ASN from MaxMind databases (GeoLite2 / GeoIP2 City or Country, and ASN).

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{Reader, geoip2};

use crate::error::TopologyError;

/// What the databases say about an address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoFacts {
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// Autonomous system number.
    pub asn: Option<u32>,
    /// Autonomous system organisation.
    pub as_org: Option<String>,
}

/// Open MaxMind databases; either may be absent.
#[derive(Default)]
pub struct GeoDb {
    country: Option<Reader<Vec<u8>>>,
    asn: Option<Reader<Vec<u8>>>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("country", &self.country.is_some())
            .field("asn", &self.asn.is_some())
            .finish()
    }
}

fn open(path: &Path) -> Result<Reader<Vec<u8>>, TopologyError> {
    Reader::open_readfile(path).map_err(|e| {
        TopologyError::invalid(
            &path.display().to_string(),
            "$",
            format!("not a MaxMind database: {e}"),
        )
    })
}

impl GeoDb {
    /// Opens a City or Country database and an ASN database.
    pub fn open(country: Option<&Path>, asn: Option<&Path>) -> Result<GeoDb, TopologyError> {
        Ok(GeoDb {
            country: country.map(open).transpose()?,
            asn: asn.map(open).transpose()?,
        })
    }

    /// Whether any database is open.
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.asn.is_none()
    }

    /// Country and AS of an address; a database error counts as "not known".
    pub fn lookup(&self, ip: IpAddr) -> GeoFacts {
        let mut facts = GeoFacts::default();
        if let Some(db) = &self.country
            && let Ok(Some(record)) = db.lookup(ip).and_then(|r| r.decode::<geoip2::Country>())
        {
            facts.country = record.country.iso_code.map(str::to_owned);
        }
        if let Some(db) = &self.asn
            && let Ok(Some(record)) = db.lookup(ip).and_then(|r| r.decode::<geoip2::Asn>())
        {
            facts.asn = record.autonomous_system_number;
            facts.as_org = record.autonomous_system_organization.map(str::to_owned);
        }
        facts
    }
}
