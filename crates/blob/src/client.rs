//! The storage client: object_store's Azure implementation with its credential chain and
//! retries, on a small runtime of its own, with every HTTP request counted.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use object_store::azure::{MicrosoftAzure, MicrosoftAzureBuilder};
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpRequest, HttpResponse, HttpService, ReqwestConnector,
};
use object_store::{BackoffConfig, ClientOptions, RetryConfig};
use tokio::runtime::Runtime;

use crate::error::BlobError;
use crate::location::BlobLocation;

/// How hard to try before a blob input counts as unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobOptions {
    /// Retries of one request on throttling (429, 503), server errors (500…) and timeouts.
    pub max_retries: usize,
    /// No retry starts later than this after a request's first attempt.
    pub retry_timeout: Duration,
    /// One attempt of one request may take this long.
    pub request_timeout: Duration,
}

impl Default for BlobOptions {
    fn default() -> Self {
        BlobOptions {
            max_retries: 10,
            retry_timeout: Duration::from_secs(180),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// HTTP requests made to one container, by kind.
#[derive(Debug, Default)]
pub struct RequestCounts {
    /// List Blobs calls (each page is one).
    pub list: AtomicU64,
    /// Reads (Get Blob, ranged) and property look-ups.
    pub read: AtomicU64,
    /// The status of the last response refused for its credentials (401, 403) or for a missing
    /// container (404 on a list), with the request's URL path; errors are told apart by it.
    refused: Mutex<Option<u16>>,
}

impl RequestCounts {
    /// List calls so far.
    pub fn lists(&self) -> u64 {
        self.list.load(Ordering::Relaxed)
    }

    /// Reads so far.
    pub fn reads(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    pub(crate) fn refused(&self) -> Option<u16> {
        *self.refused.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The shared runtime of every blob request: two threads are plenty for I/O, and keeping it
/// apart from DataFusion's means a blocking read never waits on a busy query thread.
fn runtime() -> Result<&'static Runtime, BlobError> {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("acrlens-blob")
        .enable_all()
        .build()
        .map_err(|e| BlobError::Other {
            place: "blob storage".into(),
            message: format!("cannot start the I/O threads: {e}"),
        })?;
    Ok(RUNTIME.get_or_init(|| rt))
}

/// Runs `future` on the blob runtime and waits for it, from any thread (also one of another
/// runtime's, which `block_on` would refuse).
pub(crate) fn run<T: Send + 'static>(
    future: impl Future<Output = T> + Send + 'static,
) -> Result<T, BlobError> {
    let handle = runtime()?.spawn(future);
    futures::executor::block_on(handle).map_err(|e| BlobError::Other {
        place: "blob storage".into(),
        message: format!("an I/O task failed: {e}"),
    })
}

/// Starts `future` on the blob runtime without waiting for it.
pub(crate) fn spawn(future: impl Future<Output = ()> + Send + 'static) -> Result<(), BlobError> {
    runtime()?.spawn(future);
    Ok(())
}

/// A connection to one container, with its request counts.
#[derive(Debug, Clone)]
pub struct Container {
    /// Where it is.
    pub location: BlobLocation,
    /// The client.
    pub store: Arc<MicrosoftAzure>,
    /// Requests made through it.
    pub counts: Arc<RequestCounts>,
}

impl Container {
    /// Connects to the container `location` names, with credentials from the environment in
    /// object_store's order: a bearer token, the account key, workload identity, a client
    /// secret, a SAS token, the Azure CLI (with `AZURE_USE_AZURE_CLI=true`), and otherwise the
    /// managed identity of the machine. The emulator defaults to its well-known key.
    pub fn connect(location: &BlobLocation, options: BlobOptions) -> Result<Container, BlobError> {
        let counts = Arc::new(RequestCounts::default());
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: options.max_retries,
            retry_timeout: options.retry_timeout,
        };
        let store = MicrosoftAzureBuilder::from_env()
            .with_url(location.url.clone())
            .with_account(location.account.clone())
            .with_container_name(location.container.clone())
            .with_retry(retry)
            .with_client_options(ClientOptions::new().with_timeout(options.request_timeout))
            .with_allow_http(location.emulator)
            .with_http_connector(Counting(counts.clone()))
            .build()
            .map_err(|e| BlobError::Other {
                place: location.describe(),
                message: e.to_string(),
            })?;
        Ok(Container {
            location: location.clone(),
            store: Arc::new(store),
            counts,
        })
    }

    /// An object_store error while listing, as a sentence naming the container.
    pub(crate) fn list_error(&self, e: &object_store::Error) -> BlobError {
        let message = e.to_string();
        let place = self.location.describe();
        match self.counts.refused() {
            Some(status @ (401 | 403)) => BlobError::Denied {
                place,
                status,
                code: crate::error::azure_code(&message)
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default(),
            },
            Some(404) => BlobError::NoContainer(place),
            _ => BlobError::Other {
                place,
                message: crate::error::concise(&message),
            },
        }
    }
}

/// Counts requests by kind and remembers refusals, around object_store's own HTTP client.
#[derive(Debug)]
struct Counting(Arc<RequestCounts>);

impl HttpConnector for Counting {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(CountingService {
            inner: ReqwestConnector::default().connect(options)?,
            counts: self.0.clone(),
        }))
    }
}

#[derive(Debug)]
struct CountingService {
    inner: HttpClient,
    counts: Arc<RequestCounts>,
}

#[async_trait]
impl HttpService for CountingService {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let list = req.uri().query().is_some_and(|q| q.contains("comp=list"));
        let counter = if list {
            &self.counts.list
        } else {
            &self.counts.read
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let response = self.inner.execute(req).await?;
        let status = response.status().as_u16();
        if matches!(status, 401 | 403) || (list && status == 404) {
            *self
                .counts
                .refused
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(status);
        }
        Ok(response)
    }
}

/// A read error as the decoder sees it: not about the content, so the input can be read again.
pub(crate) fn read_error(name: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("{name}: {}", crate::error::concise(&e.to_string())))
}

/// A read that returned fewer bytes than asked for.
pub(crate) fn short_read(name: &str, want: usize, got: usize) -> std::io::Error {
    read_error(
        name,
        format!("{got} bytes came back where {want} were asked for (replaced while being read?)"),
    )
}
