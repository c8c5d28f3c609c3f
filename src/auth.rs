//! Credentials: argon2id password hashes, HS256 access tokens, opaque random tokens.
//! Pure functions over keys passed in as values; the session rules live in `service::auth`.

use argon2::{
    Algorithm as ArgonAlgorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier,
    Version,
};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::role::Role;

/// 256 random bits, URL-safe: refresh tokens, reset tokens, generated secrets.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Opaque tokens are stored only as this hash, so a database leak does not leak sessions.
pub fn sha256_hex(input: &str) -> String {
    hex::encode(Sha256::digest(input.as_bytes()))
}

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id baseline: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(ArgonAlgorithm::Argon2id, Version::V0x13, params)
}

/// CPU-heavy (tens of milliseconds): call from the blocking pool.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// CPU-heavy (tens of milliseconds): call from the blocking pool.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// The session (sign-in) the token belongs to: it dies when that session is revoked.
    pub sid: String,
    pub role: Role,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
}

/// Signing and verification keys for access tokens, with the algorithm pinned to HS256.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl JwtKeys {
    pub fn new(secret: &SecretString, issuer: &str, audience: &str) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let bytes = secret.expose_secret().as_bytes();
        JwtKeys {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        }
    }

    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        role: Role,
        now: i64,
        ttl_seconds: i64,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl_seconds,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing access token: {e}"))
    }

    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

type HashJob = Box<dyn FnOnce() + Send>;

/// A few long-lived threads that do all password hashing. argon2 needs 19 MiB per hash; on
/// the general blocking pool every thread that ever hashed keeps its own malloc arena with
/// that block in it, so a login storm grew the server by hundreds of MiB. Here memory is
/// bounded by the thread count, and a storm queues, at a lower priority
/// (`os::lower_thread_priority`), instead of starving other requests.
pub struct HashPool {
    jobs: std::sync::mpsc::Sender<HashJob>,
}

impl HashPool {
    pub fn new(threads: usize) -> HashPool {
        let (jobs, queue) = std::sync::mpsc::channel::<HashJob>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("qifu-hash-{n}"))
                .spawn(move || {
                    crate::os::lower_thread_priority();
                    loop {
                        // The lock is held only to take the next job, not while hashing.
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        HashPool { jobs }
    }

    /// Runs `f` on a hashing thread and waits for it without blocking the caller's thread.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let job: HashJob = Box::new(move || {
            let _entered = span.enter();
            let _ = tx.send(f());
        });
        self.jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("hash pool stopped"))?;
        rx.await.map_err(|_| anyhow::anyhow!("hash job dropped"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(&SecretString::from("k".repeat(40)), "qifu", "qifu-api")
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn round_trip() {
        let token = keys().issue("u1", "s1", Role::Admin, now(), 900).unwrap();
        let claims = keys().verify(&token).unwrap();
        assert_eq!(claims.sub, "u1");
        assert_eq!(claims.sid, "s1");
        assert_eq!(claims.role, Role::Admin);
    }

    #[test]
    fn expired_other_key_and_other_audience_are_refused() {
        assert!(
            keys()
                .verify(
                    &keys()
                        .issue("u1", "s1", Role::Admin, now() - 3600, 900)
                        .unwrap()
                )
                .is_none()
        );
        let other = JwtKeys::new(&SecretString::from("z".repeat(40)), "qifu", "qifu-api");
        assert!(
            keys()
                .verify(&other.issue("u1", "s1", Role::Admin, now(), 900).unwrap())
                .is_none()
        );
        let aud = JwtKeys::new(&SecretString::from("k".repeat(40)), "qifu", "elsewhere");
        assert!(
            keys()
                .verify(&aud.issue("u1", "s1", Role::Admin, now(), 900).unwrap())
                .is_none()
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let token = keys()
            .issue("u1", "s1", Role::Enterprise, now(), 900)
            .unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert!(keys().verify(&format!("{header}.{payload}.")).is_none());
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("Correct-Horse-9").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("Correct-Horse-9", &hash));
        assert!(!verify_password("Correct-Horse-8", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token();
        assert!(a.len() >= 43);
        assert_ne!(a, random_token());
        assert_eq!(sha256_hex("abc").len(), 64);
    }
}
