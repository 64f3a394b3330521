//! A topology loaded on first use: a query over the store that calls no IP function and reads
//! no topology table must not pay for reading and compiling the service-tag files.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::TopologyError;
use crate::topology::{Topology, TopologyParts};

/// A topology that is loaded (once) when something first asks for it. Cloning shares it.
#[derive(Debug, Clone)]
pub struct LazyTopology(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// The project file to load; `None` for the empty topology.
    path: Option<PathBuf>,
    cell: OnceLock<Result<Arc<Topology>, LoadError>>,
    /// Whether a thread was started to load it: one is enough.
    preloading: AtomicBool,
}

/// A topology that could not be loaded: every use of it fails with this, naming the project
/// file, the cause kept as the source.
#[derive(Debug, Clone, thiserror::Error)]
#[error("loading the topology named by {path}: {source}")]
pub struct LoadError {
    /// The project file.
    pub path: String,
    /// Why.
    #[source]
    pub source: Arc<TopologyError>,
}

impl LazyTopology {
    /// The topology named by a project file (`acrlens.toml`), or the empty one, loaded on first
    /// use.
    pub fn from_file(path: Option<PathBuf>) -> Self {
        LazyTopology(Arc::new(Inner {
            path,
            cell: OnceLock::new(),
            preloading: AtomicBool::new(false),
        }))
    }

    /// The topology, loading it on the first call; a load that failed fails every call with
    /// the same message, naming the project file.
    pub fn get(&self) -> Result<&Arc<Topology>, LoadError> {
        let inner = &*self.0;
        inner
            .cell
            .get_or_init(|| match &inner.path {
                None => Ok(Arc::new(Topology::compile(TopologyParts::default()))),
                Some(path) => Topology::load(path).map(Arc::new).map_err(|e| LoadError {
                    path: path.display().to_string(),
                    source: Arc::new(e),
                }),
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Starts loading the topology on a thread of its own and returns at once, so that it is
    /// ready, or nearly, when the first batch asks for it: the load (the service-tag files,
    /// tens of milliseconds) then overlaps with the first units' decoding instead of holding up
    /// every decoding thread at the first batch. What the load gives, a failure included, is
    /// kept for [`get`](LazyTopology::get) as always; without a thread, `get` loads it as before.
    /// Called again, it starts no other thread.
    pub fn preload(&self) {
        if self.0.cell.get().is_some() || self.0.preloading.swap(true, Ordering::Relaxed) {
            return;
        }
        let this = self.clone();
        // A thread that cannot be started changes nothing: the first `get` loads it.
        let _ = std::thread::Builder::new()
            .name("acrlens-topology".into())
            .spawn(move || drop(this.get()));
    }

    /// Whether two handles share one topology.
    pub fn ptr_eq(&self, other: &LazyTopology) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// An address that identifies the shared topology (for hashing alongside [`ptr_eq`]).
    ///
    /// [`ptr_eq`]: LazyTopology::ptr_eq
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

impl From<Arc<Topology>> for LazyTopology {
    /// A topology already loaded.
    fn from(topology: Arc<Topology>) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(Ok(topology));
        LazyTopology(Arc::new(Inner {
            path: None,
            cell,
            preloading: AtomicBool::new(false),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_read_until_asked_and_a_bad_file_fails_every_ask() {
        let missing = LazyTopology::from_file(Some(PathBuf::from("/nonexistent/acrlens.toml")));
        let first = missing.get().unwrap_err();
        assert!(
            first
                .to_string()
                .starts_with("loading the topology named by /nonexistent/acrlens.toml: ")
        );
        assert!(matches!(*first.source, TopologyError::Read { .. }));
        // Loaded once: every later ask fails with the same error.
        assert!(Arc::ptr_eq(
            &missing.clone().get().unwrap_err().source,
            &first.source
        ));
        // Loaded ahead on a thread of its own, without anyone asking; the failure is the same,
        // and kept.
        let ahead = LazyTopology::from_file(Some(PathBuf::from("/nonexistent/acrlens.toml")));
        ahead.preload();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while ahead.0.cell.get().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "preload loaded nothing"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(ahead.get().unwrap_err().to_string(), first.to_string());
        let empty = LazyTopology::from_file(None);
        empty.preload();
        assert!(empty.get().unwrap().registries().is_empty());
        let shared = empty.clone();
        assert!(shared.ptr_eq(&empty) && !shared.ptr_eq(&missing));
    }
}
