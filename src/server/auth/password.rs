//! Password hashes: argon2id with the argon2 crate's defaults (OWASP's
//! recommended m=19 MiB, t=2, p=1), in PHC string form, so the parameters
//! travel with each hash and can be raised later.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore as _;

/// The shortest password `user add` and `user passwd` accept.
pub const MIN_LEN: usize = 12;

/// Hashes `password` (blocking: call it on a blocking thread in a server).
pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// True when `password` matches `hash`; false for a wrong password or an
/// unreadable hash (blocking).
pub fn verify(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Why a new password is refused, if it is.
pub fn check_new(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LEN {
        return Err(format!(
            "the password is too short: use at least {MIN_LEN} characters"
        ));
    }
    if password.trim().is_empty() {
        return Err("the password is blank".to_string());
    }
    Ok(())
}

/// A random password for the bootstrap admin: 20 characters from an
/// alphabet without look-alikes.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| {
            let i = (rng.next_u32() as usize) % ALPHABET.len();
            char::from(ALPHABET[i])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_password() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify(&h, "correct horse battery"));
        assert!(!verify(&h, "correct horse batterY"));
        assert!(!verify("not a hash", "correct horse battery"));
        assert_ne!(h, hash("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn new_passwords_are_checked_and_generated_ones_pass() {
        assert!(check_new("short").is_err());
        assert!(check_new("            ").is_err());
        assert!(check_new("a long enough one").is_ok());
        let g = generate();
        assert_eq!(g.len(), 20);
        assert!(check_new(&g).is_ok());
        assert_ne!(g, generate());
    }
}
