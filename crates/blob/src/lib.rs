//! acrlens-blob: reading ACR diagnostic-log exports where they live, in Azure Blob Storage.
//!
//! A registry's diagnostic setting appends its logs to blobs of a storage account
//! (`insights-logs-containerregistry…/resourceId=/…/y=/m=/d=/h=/m=00/PT1H.json`), and Log
//! Analytics data export writes `am-<Table>/…/PT05M.json`. [`discover_inputs`] lists the blobs
//! an `az://`, `abfs[s]://` or `https://<account>.blob.core.windows.net/` input names — pruned
//! to the `--since`/`--until` window's folders — and turns each into an
//! [`InputSource::Remote`](acrlens_events::InputSource::Remote) that the decoder reads through
//! ranged GETs in bounded memory, as it reads files. The client is object_store's Azure
//! implementation: its credential chain (account key, SAS token, service principal, workload
//! or managed identity, Azure CLI), its retries with backoff, the Azurite emulator with
//! `AZURE_STORAGE_USE_EMULATOR=true`.
//!
//! ```
//! use acrlens_blob::{BlobLocation, is_blob_url};
//!
//! assert!(is_blob_url("az://insights-logs-containerregistryloginevents/resourceId=/SUBSCRIPTIONS"));
//! let at = BlobLocation::parse("https://logs.blob.core.windows.net/am-containerregistryloginevents/WorkspaceResourceId=/").unwrap();
//! assert_eq!((at.account.as_str(), at.container.as_str()), ("logs", "am-containerregistryloginevents"));
//! assert_eq!(at.prefix, "WorkspaceResourceId=");
//! ```

mod client;
mod discover;
mod error;
mod fetch;
mod list;
mod location;

pub use client::{BlobOptions, RequestCounts};
pub use discover::{DiscoverError, Discovery, Listing, discover_inputs};
pub use error::BlobError;
pub use fetch::CHUNK_BYTES;
pub use location::{BlobLocation, EMULATOR_ACCOUNT, EMULATOR_URL, is_blob_url};
