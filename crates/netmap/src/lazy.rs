//! A topology loaded on first use: a query over the store that calls no IP function and reads
//! no topology table must not pay for reading and compiling the service-tag files.

use std::path::PathBuf;
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
        LazyTopology(Arc::new(Inner { path: None, cell }))
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
        let empty = LazyTopology::from_file(None);
        assert!(empty.get().unwrap().registries().is_empty());
        let shared = empty.clone();
        assert!(shared.ptr_eq(&empty) && !shared.ptr_eq(&missing));
    }
}
