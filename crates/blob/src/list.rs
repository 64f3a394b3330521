//! Listing a container's exports, pruned by time: with a window, the `y=/m=/d=` folders are
//! walked one level at a time (a List Blobs call with a `/` delimiter each) and only those that
//! may hold records of the window, with the 48-hour filing margin, are entered; a day folder is
//! then listed flat, one call per 5,000 blobs. Without a window the prefix is listed flat.

use std::collections::VecDeque;
use std::path::Path as FsPath;
use std::sync::Arc;

use acrlens_events::{TimeWindow, looks_like_log, partition_may_overlap, partition_span};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use crate::client::Container;
use crate::error::BlobError;

/// A folder whose span is a day or less is listed flat: its hours hold one blob each.
const FLAT_SPAN_MICROS: i64 = 24 * 3_600_000_000;

/// The blobs under the container's prefix that may hold records of `window`, in name order
/// (which is time order in the export layouts).
pub(crate) fn list(
    container: &Container,
    window: TimeWindow,
) -> Result<Vec<ObjectMeta>, BlobError> {
    let store: Arc<dyn ObjectStore> = container.store.clone();
    let prefix = Path::from(container.location.prefix.as_str());
    let found = crate::client::run(async move { walk(store, prefix, window).await })?;
    let mut blobs = match found {
        Ok(blobs) => blobs,
        Err(e) => return Err(container.list_error(&e)),
    };
    if blobs.is_empty() && !container.location.prefix.is_empty() {
        // The prefix may name one blob.
        let store = container.store.clone();
        let path = Path::from(container.location.prefix.as_str());
        match crate::client::run(async move { store.head(&path).await })? {
            Ok(meta) => blobs.push(meta),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(container.list_error(&e)),
        }
    }
    blobs.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(blobs)
}

fn unbounded(window: TimeWindow) -> bool {
    window.since.is_none() && window.until.is_none()
}

fn may_overlap(path: &Path, window: TimeWindow) -> bool {
    partition_may_overlap(FsPath::new(path.as_ref()), window)
}

fn wanted(meta: &ObjectMeta, window: TimeWindow) -> bool {
    looks_like_log(meta.location.as_ref()) && may_overlap(&meta.location, window)
}

async fn walk(
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    window: TimeWindow,
) -> object_store::Result<Vec<ObjectMeta>> {
    let mut found = Vec::new();
    let mut folders = VecDeque::from([prefix]);
    while let Some(folder) = folders.pop_front() {
        let narrow = partition_span(FsPath::new(folder.as_ref()))
            .is_some_and(|(start, end)| end - start <= FLAT_SPAN_MICROS);
        if unbounded(window) || narrow {
            let blobs: Vec<ObjectMeta> = store.list(Some(&folder)).try_collect().await?;
            found.extend(blobs.into_iter().filter(|m| wanted(m, window)));
            continue;
        }
        let level = store.list_with_delimiter(Some(&folder)).await?;
        found.extend(level.objects.into_iter().filter(|m| wanted(m, window)));
        folders.extend(
            level
                .common_prefixes
                .into_iter()
                .filter(|p| may_overlap(p, window)),
        );
    }
    Ok(found)
}
