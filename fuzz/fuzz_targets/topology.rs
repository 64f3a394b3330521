//! Any bytes as each topology file: service tags, registry snapshots (`az acr show` and ARM),
//! VNets, private endpoints, named ranges and `acrlens.toml`. A loader gives a value or an error
//! that names the file; it never panics.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use acrlens_netmap::{
    NamedRange, PrivateEndpoint, ProjectFile, RegistryConfig, ServiceTagSnapshot, TopologyError,
    Vnet,
};
use libfuzzer_sys::fuzz_target;

/// One file per fuzzing process, rewritten for every input (in memory where `/dev/shm` is).
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("fuzz-topology-{}", std::process::id()))
    })
}

fn names_the_file<T>(loaded: Result<T, TopologyError>) {
    if let Err(e) = loaded {
        assert!(e.to_string().contains("fuzz-topology"), "{e}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let path = path();
    if std::fs::write(path, bytes).is_err() {
        return;
    }
    match pick % 6 {
        0 => names_the_file(ServiceTagSnapshot::load(path, None)),
        1 => names_the_file(RegistryConfig::load(path, None)),
        2 => names_the_file(Vnet::load(path)),
        3 => names_the_file(PrivateEndpoint::load(path)),
        4 => names_the_file(NamedRange::load(path)),
        _ => names_the_file(ProjectFile::load(path)),
    }
});
