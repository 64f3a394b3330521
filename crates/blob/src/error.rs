//! Why blobs could not be listed: each a sentence a user can act on, naming the account and
//! container.

/// Why a blob input could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The URL does not name a container.
    #[error("{0:?} is not a blob URL: {1}")]
    BadUrl(String, String),
    /// `az://` without an account anywhere.
    #[error(
        "{0}: no storage account: set AZURE_STORAGE_ACCOUNT_NAME, or write https://<account>.blob.core.windows.net/<container>/<prefix>"
    )]
    NoAccount(String),
    /// The credentials were refused (401/403).
    #[error(
        "access denied to {place} ({status}{code}): check the credentials (AZURE_STORAGE_ACCOUNT_KEY, AZURE_STORAGE_SAS_TOKEN, a service principal or managed identity; see the README) and that they may list and read this container"
    )]
    Denied {
        /// Container and account.
        place: String,
        /// The HTTP status.
        status: u16,
        /// `: <Azure error code>` when the service gave one.
        code: String,
    },
    /// The container does not exist.
    #[error("{0} does not exist")]
    NoContainer(String),
    /// Nothing under the prefix: a typo must not look like an empty export.
    #[error("no blob matches {0}")]
    Empty(String),
    /// Anything else the client reported (network, configuration).
    #[error("listing {place} failed: {message}")]
    Other {
        /// Container and account.
        place: String,
        /// The client's message.
        message: String,
    },
}

/// An error message without the XML body a storage error carries, keeping its Azure error code.
pub(crate) fn concise(message: &str) -> String {
    let Some(xml) = message.find("<?xml") else {
        return message.to_owned();
    };
    let head = message[..xml].trim_end().trim_end_matches(':');
    match azure_code(message) {
        Some(code) => format!("{head} ({code})"),
        None => head.to_owned(),
    }
}

/// The Azure error code in a response body carried by an error message
/// (`<Code>AuthenticationFailed</Code>`), if there is one.
pub(crate) fn azure_code(message: &str) -> Option<&str> {
    let start = message.find("<Code>")? + "<Code>".len();
    let len = message[start..].find("</Code>")?;
    Some(&message[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_azure_code_is_read_from_the_body() {
        let body = "Server returned non-2xx status code: 403 Forbidden: <?xml?><Error><Code>AuthorizationFailure</Code><Message>x</Message></Error>";
        assert_eq!(azure_code(body), Some("AuthorizationFailure"));
        assert_eq!(azure_code("timed out"), None);
        assert_eq!(azure_code("<Code>unterminated"), None);
        assert_eq!(
            concise(body),
            "Server returned non-2xx status code: 403 Forbidden (AuthorizationFailure)"
        );
        assert_eq!(concise("timed out"), "timed out");
    }
}
