//! Discovery (`/.well-known/*`), keys, introspection (RFC 7662), revocation (RFC 7009) and
//! `/oauth2/v1/userinfo`.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use steward_core::timefmt::now_millis;
use steward_oauth::challenge;
use steward_oauth::guard::{self as rs, Credentials, GuardConfig, ResourceRequest};
use steward_oauth::jwk::JwsAlg;
use steward_oauth::jwt::{self, VerifyOptions};
use steward_oauth::secrets::sha256_hex;

use super::client_auth;
use super::tokens::user_claims;
use super::Form;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The Okta API scopes a token can use here: those of the catalogue whose routes Steward serves
/// (the rest are not built yet and cannot be granted).
fn okta_scopes() -> Vec<&'static str> {
    steward_core::scopes::all_scopes()
        .map(|s| s.name)
        .filter(|name| crate::routes::scope_is_built(name))
        .collect()
}

fn metadata(issuer: &str, oidc: bool) -> Value {
    let mut scopes: Vec<&str> = steward_oauth::scopes::OIDC_SCOPES.to_vec();
    scopes.extend(okta_scopes());
    let auth_methods = [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ];
    let algs: Vec<&str> = JwsAlg::ALL.iter().map(|a| a.as_str()).collect();
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/v1/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/v1/token"),
        "jwks_uri": format!("{issuer}/oauth2/v1/keys"),
        "introspection_endpoint": format!("{issuer}/oauth2/v1/introspect"),
        "revocation_endpoint": format!("{issuer}/oauth2/v1/revoke"),
        "end_session_endpoint": format!("{issuer}/oauth2/v1/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": scopes,
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "claims_supported": ["ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub", "auth_time",
            "name", "given_name", "family_name", "preferred_username", "email", "email_verified", "locale", "zoneinfo", "updated_at", "nonce", "at_hash", "amr"],
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": algs,
        "request_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    });
    if oidc {
        doc["userinfo_endpoint"] = json!(format!("{issuer}/oauth2/v1/userinfo"));
    }
    doc
}

fn cacheable(body: Value, max_age: u32) -> Response {
    let mut response = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("max-age={max_age}, must-revalidate")) {
        response.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    response
}

pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    cacheable(metadata(&state.config.issuer, true), 3600)
}

pub async fn authorization_server(State(state): State<AppState>) -> Response {
    cacheable(metadata(&state.config.issuer, true), 3600)
}

/// RFC 9728: what protects the Okta APIs and which scopes they use.
pub async fn protected_resource(State(state): State<AppState>) -> Response {
    let issuer = &state.config.issuer;
    let algs: Vec<&str> = JwsAlg::ALL.iter().map(|a| a.as_str()).collect();
    cacheable(
        json!({
            "resource": issuer,
            "authorization_servers": [issuer],
            "jwks_uri": format!("{issuer}/oauth2/v1/keys"),
            "scopes_supported": okta_scopes(),
            "bearer_methods_supported": ["header"],
            "resource_signing_alg_values_supported": ["RS256"],
            "dpop_signing_alg_values_supported": algs,
            "resource_name": "Steward (Okta Management and Identity Governance APIs)",
        }),
        3600,
    )
}

/// `GET /.well-known/okta-organization` (public): the org's id, which ORNs name, and its URL.
pub async fn okta_organization(State(state): State<AppState>) -> ApiResult<Response> {
    let id = state.store.org_id().await?;
    let issuer = &state.config.issuer;
    Ok(cacheable(
        json!({
            "id": id,
            "pipeline": "idx",
            "_links": {"organization": {"href": issuer}},
        }),
        3600,
    ))
}

pub async fn keys(State(state): State<AppState>) -> Response {
    let jwks = state.auth.ring().jwks();
    cacheable(
        serde_json::to_value(jwks).unwrap_or_else(|_| json!({"keys": []})),
        3600,
    )
}

fn inactive() -> Response {
    Json(json!({"active": false})).into_response()
}

/// RFC 7662. A client may introspect only tokens issued to it; anything else is inactive.
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form,
) -> ApiResult<Response> {
    let endpoint = format!("{}/oauth2/v1/introspect", state.config.issuer);
    let client = client_auth::authenticate_once(&state, &headers, &form, &endpoint).await?;
    let token = form
        .get("token")
        .ok_or_else(|| ApiError::oauth("invalid_request", "The 'token' parameter is required."))?;
    let hint = form.get("token_type_hint").map(String::as_str);
    let now_ms = now_millis();
    let issuer = state.config.issuer.as_str();
    if hint != Some("refresh_token") {
        let keys = state.auth.verification_keys();
        if let Ok(claims) = jwt::verify_access_token(
            token,
            &keys,
            &VerifyOptions::new(issuer, issuer, now_ms / 1000),
        ) {
            if claims.cid != client.client_id || state.auth.is_revoked(&claims.jti) {
                return Ok(inactive());
            }
            if matches!(state.store.issued_token(&claims.jti).await, Ok(t) if t.revoked_at.is_some())
            {
                return Ok(inactive());
            }
            let mut body = json!({
                "active": true,
                "scope": claims.scope_string(),
                "client_id": claims.cid,
                "username": claims.sub,
                "exp": claims.exp,
                "iat": claims.iat,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "jti": claims.jti,
                "token_type": if claims.cnf.is_some() { "DPoP" } else { "Bearer" },
            });
            if let Some(uid) = &claims.uid {
                body["uid"] = json!(uid);
            }
            if let Some(jkt) = claims.jkt() {
                body["cnf"] = json!({"jkt": jkt});
            }
            return Ok(Json(body).into_response());
        }
    }
    match state.store.refresh_token(&sha256_hex(token)).await {
        Ok(rt)
            if rt.client_id == client.client_id
                && rt.revoked_at.is_none()
                && rt.rotated_at.is_none()
                && rt.expires > now_ms =>
        {
            let user = state.store.user(&rt.user_id).await.ok();
            Ok(Json(json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": rt.scopes,
                "client_id": rt.client_id,
                "username": user.as_ref().map(|u| u.login().to_string()),
                "uid": rt.user_id,
                "sub": user.as_ref().map(|u| u.login().to_string()),
                "iat": rt.created / 1000,
                "exp": rt.expires / 1000,
                "iss": issuer,
            }))
            .into_response())
        }
        _ => Ok(inactive()),
    }
}

/// RFC 7009: 200 whatever the token; a client can revoke only its own. Revoking a refresh token
/// revokes its family and the access tokens minted from it.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form,
) -> ApiResult<Response> {
    let endpoint = format!("{}/oauth2/v1/revoke", state.config.issuer);
    let client = client_auth::authenticate_once(&state, &headers, &form, &endpoint).await?;
    let token = form
        .get("token")
        .ok_or_else(|| ApiError::oauth("invalid_request", "The 'token' parameter is required."))?;
    let now_ms = now_millis();
    let issuer = state.config.issuer.as_str();
    let keys = state.auth.verification_keys();
    // Expired tokens may be revoked too: verify with a leeway that covers their lifetime.
    let options = VerifyOptions {
        issuer,
        audience: issuer,
        now: now_ms / 1000,
        leeway_secs: 0,
    };
    let access = jwt::verify_access_token(token, &keys, &options).ok();
    let mut tx = state.store.begin().await?;
    if let Some(claims) = access.filter(|c| c.cid == client.client_id) {
        tx.revoke_issued_token(&claims.jti, now_ms).await?;
        tx.commit().await?;
        state.auth.note_revoked(&claims.jti, claims.exp);
        return Ok(StatusCode::OK.into_response());
    }
    if let Ok(rt) = state.store.refresh_token(&sha256_hex(token)).await {
        if rt.client_id == client.client_id {
            tx.revoke_family(&rt.family_id, now_ms).await?;
            tx.commit().await?;
            for jti in state.store.jtis_of_family(&rt.family_id).await? {
                state.auth.note_revoked(&jti, i64::MAX);
            }
        }
    }
    Ok(StatusCode::OK.into_response())
}

/// OIDC UserInfo for a user access token with `openid` (GET or POST).
pub async fn userinfo(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let issuer = state.config.issuer.as_str();
    let keys = state.auth.verification_keys();
    let header_value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let dpop: Vec<&str> = headers
        .get_all("dpop")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let url = format!("{issuer}/oauth2/v1/userinfo");
    let algs = JwsAlg::ALL;
    let challenge_error = |e: rs::GuardError| ApiError::Challenge {
        status: StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED),
        challenge: e.www_authenticate(issuer, &algs),
        summary: "Invalid token provided",
        code: "",
        dpop_nonce: None,
    };
    let credentials = rs::parse_authorization(header_value).map_err(challenge_error)?;
    if matches!(
        credentials,
        Credentials::Missing | Credentials::Other { .. }
    ) {
        return Err(challenge_error(rs::GuardError::NoCredentials));
    }
    let now = now_millis() / 1000;
    // The proof's `htm` must name the method actually used: the route answers GET and POST.
    let auth = rs::authenticate(
        &GuardConfig::new(issuer, issuer, &keys),
        credentials,
        &ResourceRequest {
            dpop: &dpop,
            method: method.as_str(),
            url: &url,
            now,
        },
    )
    .map_err(challenge_error)?;
    // Each proof is good for one request (RFC 9449 §11.1), as at the API guard: a captured
    // Authorization + DPoP pair must not be replayable while the proof's `iat` is fresh.
    if let Some(proof) = &auth.proof {
        if !state
            .auth
            .use_dpop_jti(&format!("{}:{}", proof.jkt, proof.jti), now)
        {
            return Err(challenge_error(rs::GuardError::InvalidToken {
                scheme: rs::TokenScheme::Dpop,
                reason: "DPoP proof replayed".into(),
            }));
        }
    }
    let claims = auth.claims;
    // Refused in the scheme the token is used with, as the API guard answers.
    let scheme = rs::TokenScheme::of(&claims).challenge(&steward_oauth::jwk::JwsAlg::ALL);
    let invalid = || ApiError::Challenge {
        status: StatusCode::UNAUTHORIZED,
        challenge: challenge::invalid_token(issuer, scheme),
        summary: "Invalid token provided",
        code: "",
        dpop_nonce: None,
    };
    if state.auth.is_revoked(&claims.jti) {
        return Err(invalid());
    }
    let Some(uid) = claims.uid.as_deref() else {
        return Err(invalid());
    };
    if !claims.has_scope("openid") {
        return Err(ApiError::Challenge {
            status: StatusCode::FORBIDDEN,
            challenge: challenge::insufficient_scope(
                issuer,
                challenge::Scheme::Bearer,
                "openid",
                "/oauth2/v1/userinfo",
            ),
            summary: "insufficient scope",
            code: "",
            dpop_nonce: None,
        });
    }
    let user = match state.store.user(uid).await {
        Ok(user) if user.status.credentials_act() => user,
        Ok(_) | Err(steward_store::StoreError::NotFound) => return Err(invalid()),
        Err(e) => return Err(e.into()),
    };
    let mut body = serde_json::to_value(user_claims(&user).for_scopes(&claims.scp))
        .unwrap_or_else(|_| json!({}));
    body["sub"] = json!(user.id);
    Ok(Json(body).into_response())
}
