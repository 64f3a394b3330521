//! Which container and prefix an input URL names, and in which account.

use std::env;

use crate::error::BlobError;

/// The emulator's well-known account.
pub const EMULATOR_ACCOUNT: &str = "devstoreaccount1";
/// Where the emulator listens unless `AZURITE_BLOB_STORAGE_URL` says otherwise.
pub const EMULATOR_URL: &str = "http://127.0.0.1:10000";

/// A container (and a prefix in it) of a storage account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobLocation {
    /// The URL as the user wrote it; object_store reads the account and container from it.
    pub url: String,
    /// The storage account.
    pub account: String,
    /// The container.
    pub container: String,
    /// The blob-name prefix inside the container, without a leading or trailing `/`.
    pub prefix: String,
    /// Whether the Azurite emulator is meant (`AZURE_STORAGE_USE_EMULATOR=true`).
    pub emulator: bool,
}

/// Whether an input names blobs rather than local files.
pub fn is_blob_url(input: &str) -> bool {
    [
        "az://", "azure://", "abfs://", "abfss://", "https://", "http://",
    ]
    .iter()
    .any(|scheme| {
        input.len() > scheme.len()
            && input
                .get(..scheme.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    })
}

fn env_flag(name: &str) -> bool {
    env::var(name)
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

impl BlobLocation {
    /// Reads `az://<container>/<prefix>`, `azure://…`, `abfs[s]://<container>/<prefix>`,
    /// `abfs[s]://<container>@<account>.dfs.core.windows.net/<prefix>` and
    /// `https://<account>.blob.core.windows.net/<container>/<prefix>`. Without an account in
    /// the URL, `AZURE_STORAGE_ACCOUNT_NAME` names it (the emulator's is `devstoreaccount1`).
    pub fn parse(url: &str) -> Result<BlobLocation, BlobError> {
        let bad = |why: &str| BlobError::BadUrl(url.to_owned(), why.to_owned());
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let emulator = env_flag("AZURE_STORAGE_USE_EMULATOR");
        let (account, container, prefix) = match scheme.as_str() {
            "az" | "azure" | "abfs" | "abfss" => match authority.split_once('@') {
                Some((container, host)) => {
                    let account = account_of_host(host).ok_or_else(|| {
                        bad("expected <container>@<account>.dfs.core.windows.net")
                    })?;
                    (Some(account), container.to_owned(), path)
                }
                None => (None, authority.to_owned(), path),
            },
            "https" | "http" => {
                let account = account_of_host(authority).ok_or_else(|| {
                    bad("expected https://<account>.blob.core.windows.net/<container>/<prefix>, or az://<container>/<prefix>")
                })?;
                let (container, prefix) = path.split_once('/').unwrap_or((path, ""));
                (Some(account), container.to_owned(), prefix)
            }
            _ => return Err(bad("unknown scheme")),
        };
        if container.is_empty() || container.contains('.') {
            return Err(bad("no container named"));
        }
        let account = match account {
            Some(account) => account,
            None => match env::var("AZURE_STORAGE_ACCOUNT_NAME") {
                Ok(name) if !name.trim().is_empty() => name.trim().to_owned(),
                _ if emulator => EMULATOR_ACCOUNT.to_owned(),
                _ => return Err(BlobError::NoAccount(url.to_owned())),
            },
        };
        Ok(BlobLocation {
            url: url.to_owned(),
            account,
            container,
            prefix: prefix.trim_matches('/').to_owned(),
            emulator,
        })
    }

    /// The base URL of the account's blob service, as blob names are shown: the emulator's
    /// `http://127.0.0.1:10000/devstoreaccount1`, `AZURE_STORAGE_ENDPOINT` when set, otherwise
    /// `https://<account>.blob.core.windows.net`.
    pub fn service_url(&self) -> String {
        if self.emulator {
            let base = env::var("AZURITE_BLOB_STORAGE_URL").unwrap_or_else(|_| EMULATOR_URL.into());
            return format!("{}/{}", base.trim_end_matches('/'), self.account);
        }
        match env::var("AZURE_STORAGE_ENDPOINT") {
            Ok(endpoint) if !endpoint.trim().is_empty() => {
                endpoint.trim_end_matches('/').to_owned()
            }
            _ => format!("https://{}.blob.core.windows.net", self.account),
        }
    }

    /// The URL of one blob of the container: each record's `source` and the store's key.
    pub fn blob_url(&self, name: &str) -> String {
        format!("{}/{}/{}", self.service_url(), self.container, name)
    }

    /// How errors name this place.
    pub fn describe(&self) -> String {
        format!(
            "container {:?} of storage account {:?}",
            self.container, self.account
        )
    }
}

/// `<account>` of `<account>.blob.core.windows.net` or `<account>.dfs.core.windows.net`.
fn account_of_host(host: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    let (account, domain) = host.split_once('.')?;
    (matches!(domain, "blob.core.windows.net" | "dfs.core.windows.net") && !account.is_empty())
        .then(|| account.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_account_container_and_prefix() {
        let https = BlobLocation::parse(
            "https://Logs01.blob.core.windows.net/insights-logs-containerregistryloginevents/resourceId=/SUBSCRIPTIONS/",
        )
        .unwrap();
        assert_eq!(https.account, "logs01");
        assert_eq!(
            https.container,
            "insights-logs-containerregistryloginevents"
        );
        assert_eq!(https.prefix, "resourceId=/SUBSCRIPTIONS");
        let abfss = BlobLocation::parse("abfss://c@acct.dfs.core.windows.net/a/b/").unwrap();
        assert_eq!(
            (abfss.account.as_str(), abfss.container.as_str()),
            ("acct", "c")
        );
        assert_eq!(abfss.prefix, "a/b");
        assert!(BlobLocation::parse("https://example.com/c/p").is_err());
        assert!(BlobLocation::parse("https://acct.blob.core.windows.net/").is_err());
        assert!(BlobLocation::parse("ftp://c/p").is_err());
    }

    #[test]
    fn blob_urls_are_told_from_paths() {
        assert!(is_blob_url("az://container/prefix"));
        assert!(is_blob_url("HTTPS://acct.blob.core.windows.net/c"));
        assert!(!is_blob_url("sample-logs/exports"));
        assert!(!is_blob_url("az://"));
        assert!(!is_blob_url("é"));
    }
}
