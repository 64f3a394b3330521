//! The inputs named on a command line, local and remote alike, in time order.

use std::sync::Arc;

use acrlens_events::{InputSource, InputVersion, Resume, TimeWindow, discover, in_time_order};
use object_store::ObjectMeta;

use crate::client::{BlobOptions, Container, RequestCounts};
use crate::error::BlobError;
use crate::fetch::BlobInput;
use crate::list::list;
use crate::location::{BlobLocation, is_blob_url};

/// Why the inputs could not be found.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// A local input.
    #[error(transparent)]
    Local(#[from] acrlens_events::Error),
    /// A blob input.
    #[error(transparent)]
    Blob(#[from] BlobError),
}

/// What listing one blob input found.
#[derive(Debug)]
pub struct Listing {
    /// The input as given.
    pub input: String,
    /// The container and account.
    pub place: String,
    /// Blobs found (inside the time window).
    pub blobs: usize,
    /// Their listed bytes.
    pub bytes: u64,
    /// Requests made to the container; reads go on counting while the blobs are read.
    pub requests: Arc<RequestCounts>,
}

/// Every input found, and how each blob input was listed.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The inputs in the order of the hours their folders name ([`in_time_order`]).
    pub sources: Vec<InputSource>,
    /// One entry per blob input.
    pub listings: Vec<Listing>,
}

/// Expands `inputs`: local files, folders and globs as [`discover`] does, and blob URLs
/// (`az://`, `abfs[s]://`, `https://<account>.blob.core.windows.net/…`) by listing their
/// container, pruned to `window`. A name that matches nothing is an error, so a typo never
/// looks like an empty export; so is a container that cannot be listed.
pub fn discover_inputs(
    inputs: &[String],
    window: TimeWindow,
    options: BlobOptions,
) -> Result<Discovery, DiscoverError> {
    let mut found = Discovery::default();
    for input in inputs {
        if !is_blob_url(input) {
            found
                .sources
                .extend(discover(std::slice::from_ref(input), window)?);
            continue;
        }
        let location = BlobLocation::parse(input)?;
        let container = Container::connect(&location, options)?;
        let blobs = list(&container, window)?;
        if blobs.is_empty() && window.since.is_none() && window.until.is_none() {
            return Err(BlobError::Empty(input.clone()).into());
        }
        found.listings.push(Listing {
            input: input.clone(),
            place: location.describe(),
            blobs: blobs.len(),
            bytes: blobs.iter().map(|b| b.size).sum(),
            requests: container.counts.clone(),
        });
        found
            .sources
            .extend(blobs.into_iter().map(|meta| source(&container, meta)));
    }
    in_time_order(&mut found.sources);
    Ok(found)
}

fn source(container: &Container, meta: ObjectMeta) -> InputSource {
    let version = InputVersion {
        size: meta.size,
        modified_ns: meta
            .last_modified
            .timestamp_nanos_opt()
            .map_or(0, |ns| u128::try_from(ns).unwrap_or(0)),
        etag: meta.e_tag,
    };
    let name = container.location.blob_url(meta.location.as_ref());
    InputSource::Remote {
        input: Arc::new(BlobInput::new(
            name,
            container.store.clone(),
            meta.location,
            version,
        )),
        start: Resume::START,
    }
}
