//! Password hashes: argon2id with m=7 MiB, t=5, p=1, one of the settings
//! OWASP's Password Storage Cheat Sheet lists as equivalent to its m=19 MiB,
//! t=2 (the same work, less memory: the memory is held by each hashing
//! thread for as long as the server runs). In PHC string form, so the
//! parameters travel with each hash: hashes made with other parameters
//! (the crate's defaults, earlier releases) still verify.

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use rand::RngCore as _;

/// Hashes are computed on a fixed set of threads, one per core, fed from a
/// queue. Each computation holds its memory cost and is pure CPU, so running more at
/// once finishes none sooner and only adds memory; and memory freed on a
/// thread tends to stay with that thread's allocator arena, so a pool that
/// grows a thread per concurrent sign-in (as `spawn_blocking` does) kept
/// about 1 GB after 50 sign-ins at the same moment (bench/RESULTS.md).
type Job = Box<dyn FnOnce() + Send>;

fn queue() -> &'static std::sync::mpsc::Sender<Job> {
    static QUEUE: std::sync::OnceLock<std::sync::mpsc::Sender<Job>> = std::sync::OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..slot_count() {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    // The lock is held while waiting for a job, not while hashing.
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panicking job loses its answer, not the thread.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                });
        }
        tx
    })
}

fn slot_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs `f` on one of the hashing threads and waits for its result.
async fn limited<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    queue()
        .send(Box::new(move || {
            let _ = tx.send(f());
        }))
        .map_err(|_| "the hashing threads are gone".to_string())?;
    rx.await.map_err(|_| "a hashing thread stopped".to_string())
}

/// [`verify`] on a hashing thread.
pub async fn verify_limited(hash: String, password: String) -> bool {
    limited(move || verify(&hash, &password))
        .await
        .unwrap_or(false)
}

/// [`hash`] on a hashing thread.
pub async fn hash_limited(password: String) -> Result<String, String> {
    limited(move || hash(&password)).await?
}

/// The shortest password `user add` and `user passwd` accept.
pub const MIN_LEN: usize = 12;

/// The memory cost of new hashes, in KiB.
pub const M_COST_KIB: u32 = 7 * 1024;
/// Passes over that memory.
pub const T_COST: u32 = 5;

fn hasher() -> Argon2<'static> {
    let params = argon2::Params::new(M_COST_KIB, T_COST, 1, None).expect("valid argon2 parameters");
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Hashes `password` (blocking: call it on a blocking thread in a server).
pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// True when `password` matches `hash`; false for a wrong password or an
/// unreadable hash (blocking).
///
/// The same computation as argon2's `verify_password`, into a block buffer
/// of the calling thread (one of the hashing threads). The buffer is zeroed
/// after each use, then given back: with glibc's mmap threshold fixed
/// (`inventory::memory::tune_allocator`) a block this large goes straight
/// back to the system, where with the defaults the allocator kept freed
/// buffers resident (10 sign-ins with 19 MiB hashes grew the process by
/// about 190 MB; bench/RESULTS.md). Keeping it instead held 7 MiB per
/// hashing thread for good after the first sign-in.
pub fn verify(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{self, Output};
    use argon2::{Algorithm, Block, Params, Version};
    thread_local! {
        static BLOCKS: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let computed = BLOCKS.with_borrow_mut(|blocks| {
        blocks.resize(params.block_count(), Block::default());
        let out = Output::init_with(expected.len(), |out| {
            argon2
                .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut blocks[..])
                .map_err(|_| password_hash::Error::Password)
        });
        blocks.fill(Block::default());
        // The zeroes must be written although the buffer is freed next.
        std::hint::black_box(&blocks[..]);
        *blocks = Vec::new();
        out
    });
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|c| c == expected)
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_there_are_slots() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let slots = slot_count();
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..slots * 4)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(limited(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Long enough for the others to pile up behind it.
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!(most >= 1 && most <= slots, "{most} at once, {slots} slots");
        // And the limited forms give the same answers as the plain ones.
        let h = hash_limited("correct horse battery".into()).await.unwrap();
        assert!(verify_limited(h.clone(), "correct horse battery".into()).await);
        assert!(!verify_limited(h, "wrong horse battery".into()).await);
    }

    #[test]
    fn hashes_with_other_parameters_verify_on_the_same_thread() {
        use argon2::{Algorithm, Params, Version};
        // Smaller, then larger, than the defaults: the thread's buffer is
        // resized each way; an argon2i and a v0x10 hash are read too.
        for (alg, version, m) in [
            (Algorithm::Argon2id, Version::V0x13, 4096),
            (Algorithm::Argon2i, Version::V0x10, 8192),
            (Algorithm::Argon2id, Version::V0x13, 32768),
        ] {
            let params = Params::new(m, 2, 1, None).unwrap();
            let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
            let h = Argon2::new(alg, version, params)
                .hash_password(b"pa55word-pa55word", &salt)
                .unwrap()
                .to_string();
            assert!(verify(&h, "pa55word-pa55word"), "{h}");
            assert!(!verify(&h, "pa55word-pa55wore"), "{h}");
        }
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{h}");
        assert!(verify(&h, "correct horse battery"));
        // A hash made with the crate's defaults (m=19 MiB, t=2) verifies too.
        let default = Argon2::default()
            .hash_password(
                b"older hash",
                &SaltString::encode_b64(b"sixteen byte salt").unwrap(),
            )
            .unwrap()
            .to_string();
        assert!(default.contains("m=19456,t=2"), "{default}");
        assert!(verify(&default, "older hash"));
        // A hash whose output was cut short does not verify.
        let cut = &h[..h.len() - 4];
        assert!(!verify(cut, "correct horse battery"));
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
