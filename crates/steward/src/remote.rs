//! `tokens` and `keys` against a running org (`--org URL --admin-token T`), over the same API
//! Okta's own tooling uses: `/api/v1/api-tokens` and the org authorization server's JWKS.

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::{print_json, Output, RemoteArgs};

/// A running org and the Super Admin credential that acts on it.
pub struct Org {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Org {
    /// `None` when no `--org` was given (the command works on a data dir).
    pub fn from_args(args: &RemoteArgs) -> Result<Option<Org>> {
        let Some(url) = &args.org else {
            return Ok(None);
        };
        let parsed = url::Url::parse(url).context("--org is not a URL")?;
        if !matches!(parsed.scheme(), "http" | "https") {
            bail!("--org must be an http(s) URL");
        }
        let Some(token) = args.admin_token.clone().filter(|t| !t.is_empty()) else {
            bail!("--org needs --admin-token (a Super Admin's SSWS API token)");
        };
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(args.insecure)
            .build()?;
        Ok(Some(Org {
            http,
            url: parsed.origin().ascii_serialization(),
            token,
        }))
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<(u16, Value, Option<String>)> {
        self.send_body(method, url, None).await
    }

    /// `method` on `path` of the org with an optional JSON body; the status and JSON answer.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Value)> {
        let url = format!("{}{path}", self.url);
        let (status, body, _) = self.send_body(method, &url, body).await?;
        Ok((status, body))
    }

    /// Every page of a list at `path`.
    pub async fn list_all(&self, path: &str) -> Result<Vec<Value>> {
        self.list(path).await
    }

    async fn send_body(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Value, Option<String>)> {
        let mut request = self
            .http
            .request(method, url)
            .header("Authorization", format!("SSWS {}", self.token))
            .header("Accept", "application/json");
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("calling {}", self.url))?;
        let status = response.status().as_u16();
        let next = response
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(next_link);
        let body = response.json().await.unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            let summary = body["errorSummary"].as_str().unwrap_or("no error summary");
            let code = body["errorCode"].as_str().unwrap_or("-");
            let causes: Vec<&str> = body["errorCauses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["errorSummary"].as_str())
                .collect();
            if causes.is_empty() {
                bail!("{} answered {status} ({code}): {summary}", self.url);
            }
            bail!(
                "{} answered {status} ({code}): {summary}\n  {}",
                self.url,
                causes.join("\n  ")
            );
        }
        Ok((status, body, next))
    }

    /// Every page of a list, following `Link: <…>; rel="next"`.
    async fn list(&self, path: &str) -> Result<Vec<Value>> {
        let mut url = format!("{}{path}", self.url);
        let mut all = Vec::new();
        loop {
            let (_, body, next) = self.send(reqwest::Method::GET, &url).await?;
            match body {
                Value::Array(items) => all.extend(items),
                other => bail!("{url} did not answer a list: {other}"),
            }
            match next {
                // Only follow links on the same org: a token is never sent elsewhere.
                Some(n) if n.starts_with(&self.url) && n != url => url = n,
                _ => return Ok(all),
            }
        }
    }
}

fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

pub async fn list_tokens(org: &Org, output: Output) -> Result<()> {
    let tokens = org.list("/api/v1/api-tokens").await?;
    match output {
        Output::Json => print_json(&Value::Array(tokens)),
        Output::Text => {
            for t in tokens {
                println!(
                    "{}\t{}\t{}\tactive",
                    t["id"].as_str().unwrap_or_default(),
                    t["name"].as_str().unwrap_or_default(),
                    t["userId"].as_str().unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

pub async fn revoke_token(org: &Org, id: &str, output: Output) -> Result<()> {
    let url = format!("{}/api/v1/api-tokens/{}", org.url, urlencode(id));
    org.send(reqwest::Method::DELETE, &url).await?;
    match output {
        Output::Json => print_json(&serde_json::json!({"id": id, "status": "REVOKED"})),
        Output::Text => println!("Revoked token {id}."),
    }
    Ok(())
}

pub async fn list_keys(org: &Org, output: Output) -> Result<()> {
    let url = format!("{}/oauth2/v1/keys", org.url);
    let (_, body, _) = org.send(reqwest::Method::GET, &url).await?;
    let keys = body["keys"].as_array().cloned().unwrap_or_default();
    match output {
        Output::Json => print_json(&Value::Array(keys)),
        Output::Text => {
            for k in keys {
                println!(
                    "{}\t{}\tpublished",
                    k["kid"].as_str().unwrap_or_default(),
                    k["alg"].as_str().unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn the_next_link_is_found_among_others() {
        let h = r#"<https://o.example/api/v1/api-tokens?limit=2>; rel="self", <https://o.example/api/v1/api-tokens?after=x&limit=2>; rel="next""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://o.example/api/v1/api-tokens?after=x&limit=2")
        );
        assert_eq!(next_link(r#"<https://o.example/a>; rel="self""#), None);
    }
}
