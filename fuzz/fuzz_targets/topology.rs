//! Any bytes as each topology file: service tags, registry snapshots (`az acr show` and ARM),
//! VNets, private endpoints, named ranges, `acrlens.toml`, and registry history (every Activity
//! Log shape and Resource Graph changes, rebuilt against the sample's snapshot of today). A loader
//! gives a value or an error that names the file; it never panics.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use acrlens_netmap::{
    NamedRange, PrivateEndpoint, ProjectFile, RegistryConfig, ServiceTagSnapshot, TopologyError,
    Vnet, registry_history,
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

/// contoso's configuration today, from the samples: what a history is rebuilt back from.
fn today() -> &'static Vec<RegistryConfig> {
    static TODAY: OnceLock<Vec<RegistryConfig>> = OnceLock::new();
    TODAY.get_or_init(|| {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../sample-logs/topology/registries/contoso-2025-11-05T12.json"
        );
        RegistryConfig::load(std::path::Path::new(file), None).unwrap_or_default()
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
    match pick % 7 {
        0 => names_the_file(ServiceTagSnapshot::load(path, None)),
        1 => names_the_file(RegistryConfig::load(path, None)),
        2 => names_the_file(Vnet::load(path)),
        3 => names_the_file(PrivateEndpoint::load(path)),
        4 => names_the_file(NamedRange::load(path)),
        5 => names_the_file(registry_history(
            today().clone(),
            std::slice::from_ref(path),
        )),
        _ => names_the_file(ProjectFile::load(path)),
    }
});
