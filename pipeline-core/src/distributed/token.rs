//! The cluster token: a shared secret, like Erlang's cookie, that every process of a run holds.
//!
//! It never crosses the wire. Each side of a new connection proves it holds the secret by
//! answering the other's fresh random nonce with HMAC-SHA256(secret, label ‖ nonce), the label
//! saying which side answers (so an answer cannot be reflected back).
//!
//! Where it comes from, first match wins: `--token-file FILE`; the environment variable
//! `PIPELINE_TOKEN`; `~/.pipeline/token`, created with 32 random bytes (hex) and mode 0600 on
//! first use, so a loopback demo needs no setup. A token file readable by others is refused (as
//! ssh refuses such a key), and a token shorter than [`MIN_TOKEN_BYTES`] too.

use crate::{Error, ErrorKind, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};

/// The environment variable that holds the token when no `--token-file` is given.
pub const TOKEN_ENV: &str = "PIPELINE_TOKEN";

/// The shortest token accepted, in bytes: shorter ones are guessable.
pub const MIN_TOKEN_BYTES: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// The shared secret of a cluster.
///
/// ```
/// use pipeline_core::distributed::Secret;
/// let secret = Secret::from_text("correct horse battery staple").unwrap();
/// assert_eq!(format!("{secret:?}"), "Secret(..)"); // never printed
/// assert!(Secret::from_text("short").is_err());
/// ```
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A secret from text (surrounding whitespace, such as a file's last newline, is dropped).
    pub fn from_text(text: &str) -> Result<Secret> {
        let text = text.trim();
        if text.len() < MIN_TOKEN_BYTES {
            return Err(Error::new(
                ErrorKind::Cluster,
                format_args!(
                    "the token has {} bytes; it needs at least {MIN_TOKEN_BYTES} (random text, \
                     the same on every host)",
                    text.len()
                ),
            ));
        }
        Ok(Secret(text.as_bytes().to_vec()))
    }

    /// The secret of this process: `file` if given, else `PIPELINE_TOKEN`, else the default
    /// file (created if missing). See the module docs.
    pub fn load(file: Option<&Path>) -> Result<Secret> {
        if let Some(file) = file {
            return Secret::read_file(file);
        }
        if let Ok(text) = std::env::var(TOKEN_ENV) {
            return Secret::from_text(&text)
                .map_err(|err| Error::new(ErrorKind::Cluster, format_args!("{TOKEN_ENV}: {err}")));
        }
        let path = default_token_path()?;
        create_if_missing(&path)?;
        Secret::read_file(&path)
    }

    /// Reads a token file, refusing one that others may read.
    ///
    /// ```
    /// use pipeline_core::distributed::Secret;
    /// let path = std::env::temp_dir().join(format!("doc-token-{}", std::process::id()));
    /// std::fs::write(&path, "a-private-token-0123456789\n").unwrap();
    /// # #[cfg(unix)] {
    /// use std::os::unix::fs::PermissionsExt;
    /// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    /// assert!(Secret::read_file(&path).is_err()); // others may read it
    /// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    /// # }
    /// assert!(Secret::read_file(&path).is_ok());
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn read_file(path: &Path) -> Result<Secret> {
        let fail = |why: String| {
            Error::new(
                ErrorKind::Cluster,
                format_args!("token file {}: {why}", path.display()),
            )
        };
        let text = std::fs::read_to_string(path).map_err(|err| fail(err.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|err| fail(err.to_string()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(fail(format!(
                    "others may read it (mode {:o}); make it private with `chmod 600 {}`",
                    mode & 0o777,
                    path.display()
                )));
            }
        }
        Secret::from_text(&text).map_err(|err| fail(err.message().to_string()))
    }

    /// The answer to `nonce`: HMAC-SHA256 over `label ‖ nonce`.
    pub(crate) fn answer(&self, label: &str, nonce: &[u8]) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(label.as_bytes());
        mac.update(nonce);
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `answer` is the right one for `nonce` (compared in constant time).
    pub(crate) fn verify(&self, label: &str, nonce: &[u8], answer: &[u8]) -> bool {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(label.as_bytes());
        mac.update(nonce);
        mac.verify_slice(answer).is_ok()
    }
}

/// `~/.pipeline/token`.
///
/// ```
/// let path = pipeline_core::distributed::default_token_path().unwrap();
/// assert!(path.ends_with(".pipeline/token"));
/// ```
pub fn default_token_path() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").ok_or_else(|| {
        Error::new(
            ErrorKind::Cluster,
            "no token: HOME is not set; give --token-file or set PIPELINE_TOKEN",
        )
    })?;
    Ok(PathBuf::from(home).join(".pipeline").join("token"))
}

/// Creates the token file with a new random token, unless it exists. Atomic: the token is
/// written to a private temporary file that is then linked into place, so two processes
/// starting at once (a worker and a run) end up with the same token.
fn create_if_missing(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let fail = |why: String| {
        Error::new(
            ErrorKind::Cluster,
            format_args!("cannot create the token file {}: {why}", path.display()),
        )
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|err| fail(err.to_string()))?;
    let token = hex(&random_bytes::<32>()?);
    let temporary = dir.join(format!(".token.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&temporary)
        .and_then(|mut file| std::io::Write::write_all(&mut file, format!("{token}\n").as_bytes()));
    if let Err(err) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(fail(err.to_string()));
    }
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(fail(err.to_string())),
    }
}

/// `N` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|err| {
        Error::new(
            ErrorKind::Cluster,
            format_args!("no random numbers from the operating system: {err}"),
        )
    })?;
    Ok(bytes)
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string; `None` if it is not one.
pub(crate) fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private_file(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        path
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pipeline-token-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn answers_verify_only_with_the_same_secret_label_and_nonce() {
        let secret = Secret::from_text("0123456789abcdef0123").unwrap();
        let other = Secret::from_text("0123456789abcdef0124").unwrap();
        let answer = secret.answer("connector", b"nonce");
        assert!(secret.verify("connector", b"nonce", &answer));
        assert!(!other.verify("connector", b"nonce", &answer));
        assert!(!secret.verify("acceptor", b"nonce", &answer));
        assert!(!secret.verify("connector", b"nonce2", &answer));
        assert!(!secret.verify("connector", b"nonce", &answer[..31]));
    }

    #[test]
    fn a_token_file_is_read_trimmed_and_must_be_private() {
        let dir = scratch("read");
        let good = private_file(&dir, "good", "  a-long-enough-token-text\n", 0o600);
        let secret = Secret::read_file(&good).unwrap();
        assert!(secret.verify(
            "x",
            b"n",
            &Secret::from_text("a-long-enough-token-text")
                .unwrap()
                .answer("x", b"n")
        ));
        #[cfg(unix)]
        {
            let open = private_file(&dir, "open", "a-long-enough-token-text", 0o644);
            let err = Secret::read_file(&open).unwrap_err().to_string();
            assert!(err.contains("others may read it (mode 644)"), "{err}");
            assert!(err.contains("chmod 600"), "{err}");
        }
        let short = private_file(&dir, "short", "tiny\n", 0o600);
        let err = Secret::read_file(&short).unwrap_err().to_string();
        assert!(
            err.contains("token has 4 bytes; it needs at least 16"),
            "{err}"
        );
        let err = Secret::read_file(&dir.join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("token file "), "{err}");
    }

    #[test]
    fn a_missing_default_token_is_created_private_once() {
        let dir = scratch("create");
        let path = dir.join("sub").join("token");
        create_if_missing(&path).unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert_eq!(first.trim().len(), 64);
        create_if_missing(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Secret::read_file(&path).unwrap();
    }

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        let bytes = random_bytes::<16>().unwrap();
        assert_eq!(from_hex(&hex(&bytes)).unwrap(), bytes);
        assert_ne!(random_bytes::<16>().unwrap(), bytes);
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }
}
