//! Card addresses: `root:kernel:MODULE:VERSION:KEY` for function cards,
//! `root:channels:http:CONNECTOR:VERSION:ACTION` for connector cards.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A card's address, parsed. Connector versions vary from export to export (okta 1.0.235 to
/// 1.0.703), so cards are looked up by [`CardKey`], which drops the version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    Kernel {
        module: String,
        version: String,
        key: String,
    },
    Connector {
        connector: String,
        version: String,
        action: String,
    },
    /// Anything else, kept verbatim (and reported as not runnable).
    Other(String),
}

impl Address {
    pub fn parse(text: &str) -> Address {
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            ["root", "kernel", module, version, key] => Address::Kernel {
                module: (*module).into(),
                version: (*version).into(),
                key: (*key).into(),
            },
            ["root", "channels", "http", connector, version, action] => Address::Connector {
                connector: (*connector).into(),
                version: (*version).into(),
                action: (*action).into(),
            },
            _ => Address::Other(text.into()),
        }
    }

    /// What the registry is keyed by.
    pub fn card_key(&self) -> CardKey {
        match self {
            Address::Kernel { module, key, .. } => CardKey::kernel(module, key),
            Address::Connector {
                connector, action, ..
            } => CardKey::connector(connector, action),
            Address::Other(text) => CardKey(text.clone()),
        }
    }

    /// The connector of a connector card.
    pub fn connector(&self) -> Option<&str> {
        match self {
            Address::Connector { connector, .. } => Some(connector),
            _ => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Kernel {
                module,
                version,
                key,
            } => write!(f, "root:kernel:{module}:{version}:{key}"),
            Address::Connector {
                connector,
                version,
                action,
            } => write!(f, "root:channels:http:{connector}:{version}:{action}"),
            Address::Other(text) => f.write_str(text),
        }
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Address::parse(&text))
    }
}

/// A card type without its version: `kernel:string:compose`, `okta:hTTPRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CardKey(pub String);

impl CardKey {
    pub fn kernel(module: &str, key: &str) -> CardKey {
        CardKey(format!("kernel:{module}:{key}"))
    }

    pub fn connector(connector: &str, action: &str) -> CardKey {
        CardKey(format!("{connector}:{action}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_print_back_and_drop_the_version_in_their_key() {
        for (text, key) in [
            ("root:kernel:string:0.0.1:compose", "kernel:string:compose"),
            (
                "root:channels:http:okta:1.0.613:hTTPRequest",
                "okta:hTTPRequest",
            ),
            (
                "root:channels:http:stash:0.7.147:searchRows2",
                "stash:searchRows2",
            ),
            ("something:else", "something:else"),
        ] {
            let address = Address::parse(text);
            assert_eq!(address.to_string(), text);
            assert_eq!(address.card_key().as_str(), key);
        }
        assert_eq!(
            Address::parse("root:channels:http:okta:1.0.235:hTTPRequest").card_key(),
            Address::parse("root:channels:http:okta:1.0.703:hTTPRequest").card_key()
        );
        assert_eq!(
            Address::parse("root:channels:http:okta:1.0.1:readUser").connector(),
            Some("okta")
        );
    }
}
