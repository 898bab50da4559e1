//! The allocator's settings for a process that holds a large inventory and
//! replaces parts of it all day (glibc only; elsewhere these do nothing).
//!
//! Measured at 100,000 secrets (bench/RESULTS.md, issue 25): glibc's
//! defaults let freed memory stay resident. Its mmap threshold rises each
//! time a large block is freed, so the snapshot's large vectors (rebuilt
//! with every merge) end up inside the heap and leave holes there instead
//! of going back to the system; each thread that allocates may get an
//! arena of its own, whose free space the others cannot reuse.

/// Fixes the mmap threshold at glibc's initial 128 KiB (large blocks always
/// come from, and go back to, the system) and caps the arenas at two, unless
/// the operator set `MALLOC_MMAP_THRESHOLD_` or `MALLOC_ARENA_MAX`
/// (glibc reads those itself). Call before the runtime starts its threads.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let unset = |name: &str| std::env::var_os(name).is_none();
        // SAFETY: mallopt only changes allocator parameters; it is called
        // before any other thread exists.
        unsafe {
            if unset("MALLOC_MMAP_THRESHOLD_") {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
            }
            if unset("MALLOC_ARENA_MAX") {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
        }
    }
}

/// Gives the free pages of every arena back to the system: after a list
/// pass or a version pass has replaced many secrets, the freed ones would
/// otherwise stay resident. Takes a few milliseconds at 100,000 secrets.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is thread-safe and only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}
