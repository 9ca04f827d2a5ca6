//! Configuration from environment variables, read through a lookup function so that
//! tests pass a map instead of mutating the process environment. Any variable `NAME`
//! left unset can be given as a file instead, named by `NAME_FILE` (Docker and
//! Kubernetes secrets are files).

use std::{collections::HashMap, fmt, io::Read, net::SocketAddr, str::FromStr, time::Duration};

/// The largest file a `NAME_FILE` variable may name: secrets and URLs are short, and a
/// path to some large file by mistake must not be read into memory whole.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

/// A configuration value that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub var: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration {}: {}", self.var, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Looks up one variable by name.
type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where configuration values come from.
pub struct Env {
    lookup: Lookup,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            lookup: Box::new(|name| std::env::var(name).ok()),
        }
    }

    /// A fixed map, for tests and for services started in-process.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let map: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Self {
            lookup: Box::new(move |name| map.get(name).cloned()),
        }
    }

    /// The value of `name`, or `None` when it is unset or blank. When `name` is unset
    /// or blank and `NAME_FILE` names a file, the value is that file's content without
    /// its trailing line break; a file that cannot be read, is larger than
    /// [`MAX_FILE_BYTES`] or is not UTF-8 is an error naming `NAME_FILE`, never a
    /// silent fallback to a default.
    pub fn value(&self, name: &str) -> Result<Option<String>, ConfigError> {
        Ok(self.sourced(name)?.map(|(value, _)| value))
    }

    /// The value of `name` and, when it came from a file, the `NAME_FILE` variable.
    fn sourced(&self, name: &str) -> Result<Option<(String, Option<String>)>, ConfigError> {
        if let Some(value) = (self.lookup)(name).filter(|v| !v.trim().is_empty()) {
            return Ok(Some((value, None)));
        }
        let file_var = format!("{name}_FILE");
        match (self.lookup)(&file_var).filter(|v| !v.trim().is_empty()) {
            Some(path) => {
                let value = read_value_file(&file_var, path.trim())?;
                Ok(Some((value, Some(file_var))))
            }
            None => Ok(None),
        }
    }

    /// The value of `name`, or `default` when unset or empty.
    ///
    /// This accessor cannot return an error, and an unreadable `NAME_FILE` must not
    /// become the default (an empty `ADMIN_TOKEN` would open every write), so the
    /// process stops there with exit code 2, as [`crate::process::run`] does for any
    /// invalid configuration.
    pub fn string(&self, name: &str, default: &str) -> String {
        match self.value(name) {
            Ok(Some(value)) => value.trim().to_owned(),
            Ok(None) => default.to_owned(),
            Err(err) => {
                eprintln!("{err}");
                std::process::exit(2)
            }
        }
    }

    /// The value of `name` parsed as `T`, or `default` when unset or empty. A value
    /// read from a file is not repeated in the error: the file is likely a secret.
    pub fn parse<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.sourced(name)? {
            Some((value, from)) => value.trim().parse().map_err(|err: T::Err| match from {
                Some(file_var) => ConfigError {
                    var: file_var,
                    message: format!("the file's content: {err}"),
                },
                None => ConfigError {
                    var: name.to_owned(),
                    message: format!("'{value}': {err}"),
                },
            }),
            None => Ok(default),
        }
    }

    /// A whole number in `min..=max`.
    pub fn bounded(
        &self,
        name: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let value = self.parse(name, default)?;
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError {
                var: name.to_owned(),
                message: format!("{value} is outside {min}..={max}"),
            })
        }
    }

    /// A duration given in milliseconds, in `1..=max_ms`.
    pub fn millis(
        &self,
        name: &str,
        default_ms: u64,
        max_ms: u64,
    ) -> Result<Duration, ConfigError> {
        self.bounded(name, default_ms, 1, max_ms)
            .map(Duration::from_millis)
    }

    /// `BIND_ADDR`, defaulting to all interfaces on the service's port.
    pub fn bind_addr(&self, default_port: u16) -> Result<SocketAddr, ConfigError> {
        self.parse("BIND_ADDR", SocketAddr::from(([0, 0, 0, 0], default_port)))
    }
}

/// The content of the file at `path` named by `var`, without its trailing line break.
fn read_value_file(var: &str, path: &str) -> Result<String, ConfigError> {
    let error = |message: String| ConfigError {
        var: var.to_owned(),
        message,
    };
    let file =
        std::fs::File::open(path).map_err(|err| error(format!("cannot read {path}: {err}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| error(format!("cannot read {path}: {err}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(error(format!(
            "{path} is larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| error(format!("{path} is not UTF-8 text")))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// `url` with any password replaced by `***`, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_unset_or_blank() {
        let env = Env::from_pairs([("A", " ")]);
        assert_eq!(env.string("A", "x"), "x");
        assert_eq!(env.parse("B", 5u32), Ok(5));
        assert_eq!(env.bind_addr(8001).map(|a| a.port()), Ok(8001));
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let env = Env::from_pairs([("N", "ten"), ("BIND_ADDR", "nowhere"), ("M", "0")]);
        assert_eq!(env.parse("N", 1u32).map_err(|e| e.var), Err("N".to_owned()));
        assert!(env.bind_addr(1).is_err());
        assert!(env.millis("M", 5, 10).is_err());
        assert!(env.bounded("M", 5, 1, 10).is_err());
    }

    #[test]
    fn port_zero_is_allowed() {
        let env = Env::from_pairs([("BIND_ADDR", "127.0.0.1:0")]);
        assert_eq!(env.bind_addr(8001).map(|a| a.port()), Ok(0));
    }

    /// A file in the system's temporary folder, removed on drop.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(tag: &str, content: &[u8]) -> Self {
            let path =
                std::env::temp_dir().join(format!("kit-config-{tag}-{}", std::process::id()));
            std::fs::write(&path, content).expect("the temporary folder is writable");
            Self(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().expect("the temporary path is UTF-8")
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn a_file_gives_the_value_when_the_variable_is_unset() {
        let secret = TempFile::new("secret", b"postgres://u:p@db/heroes\n");
        let env = Env::from_pairs([
            ("DATABASE_URL_FILE", secret.path()),
            ("N_FILE", secret.path()),
        ]);
        assert_eq!(
            env.string("DATABASE_URL", "default"),
            "postgres://u:p@db/heroes"
        );
        assert_eq!(
            env.value("DATABASE_URL"),
            Ok(Some("postgres://u:p@db/heroes".to_owned()))
        );
        let err = env.parse("N", 1u32).expect_err("a URL is not a number");
        assert_eq!(err.var, "N_FILE");
        assert!(
            !err.message.contains("heroes"),
            "the secret is not repeated: {err}"
        );
    }

    #[test]
    fn the_variable_wins_over_its_file() {
        let secret = TempFile::new("both", b"from-file");
        let env = Env::from_pairs([
            ("ADMIN_TOKEN", "from-env"),
            ("ADMIN_TOKEN_FILE", secret.path()),
        ]);
        assert_eq!(env.string("ADMIN_TOKEN", ""), "from-env");
        let blank = Env::from_pairs([("ADMIN_TOKEN", ""), ("ADMIN_TOKEN_FILE", secret.path())]);
        assert_eq!(blank.string("ADMIN_TOKEN", ""), "from-file");
    }

    #[test]
    fn only_the_trailing_line_break_is_trimmed() {
        let secret = TempFile::new("crlf", b"two\nlines\r\n");
        let env = Env::from_pairs([("V_FILE", secret.path())]);
        assert_eq!(env.value("V"), Ok(Some("two\nlines".to_owned())));
    }

    #[test]
    fn unreadable_oversized_or_binary_files_name_the_file_variable() {
        let big = TempFile::new("big", &vec![b'x'; MAX_FILE_BYTES as usize + 1]);
        let binary = TempFile::new("binary", &[0xff, 0xfe]);
        let exact = TempFile::new("exact", &vec![b'x'; MAX_FILE_BYTES as usize]);
        for path in ["/nonexistent/secret", big.path(), binary.path()] {
            let env = Env::from_pairs([("DATABASE_URL_FILE", path)]);
            let err = env.value("DATABASE_URL").expect_err(path);
            assert_eq!(err.var, "DATABASE_URL_FILE");
            assert!(err.message.contains(path), "{err}");
            let parsed = env.parse("DATABASE_URL", String::new());
            assert_eq!(
                parsed.map_err(|e| e.var),
                Err("DATABASE_URL_FILE".to_owned())
            );
        }
        let env = Env::from_pairs([("V_FILE", exact.path())]);
        assert_eq!(
            env.value("V").map(|v| v.map(|v| v.len())),
            Ok(Some(MAX_FILE_BYTES as usize))
        );
    }

    #[test]
    fn neither_variable_nor_file_is_unset() {
        let env = Env::from_pairs([("V_FILE", " ")]);
        assert_eq!(env.value("V"), Ok(None));
        assert_eq!(env.string("V", "d"), "d");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://superman:secret@db:5432/heroes"),
            "postgres://superman:***@db:5432/heroes"
        );
        assert_eq!(
            redact_url("mongodb://db:27017/?x=@"),
            "mongodb://db:27017/?x=@"
        );
        assert_eq!(redact_url("nonsense"), "nonsense");
    }
}
