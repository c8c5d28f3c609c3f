//! What the operating system lets the server tune about itself: the allocator's mmap
//! threshold (once, at the start of `main`) and the priority of the password-hashing threads.

/// Keeps glibc's mmap threshold at its 128 KiB default instead of letting it adapt.
///
/// glibc raises the threshold to the size of any large block freed, up to 32 MiB. The first
/// argon2 hash (19 MiB) did that, and from then on such blocks came from the per-thread malloc
/// arenas, whose freed memory glibc rarely returns to the system: after `bench/load`'s fixture
/// the server held two fully resident 57 MiB arenas (189 MiB in all). With a fixed threshold
/// each hash maps its block and unmaps it when done (75 MiB after the same fixture). Setting
/// the threshold is what turns the adaptation off.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 128 * 1024;
        // SAFETY: mallopt only changes allocator parameters; it takes no pointers.
        let applied = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        if applied != 1 {
            // Logging is not set up yet this early.
            eprintln!("qifu: could not fix the malloc mmap threshold; memory may grow under load");
        }
    }
}

/// Lowers the calling thread's scheduling priority (nice 10; Linux nices threads one by one).
///
/// For the password-hashing threads: argon2 is deliberately CPU-heavy, and during a login storm
/// it competed on equal terms with the workers serving reads, whose p99 then grew several-fold.
/// At a lower priority the storm's logins queue a little longer and everything else keeps its
/// latency. Failure is harmless and only logged.
pub fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    {
        const NICE: libc::c_int = 10;
        // SAFETY: setpriority takes plain integers; `who = 0` is the calling thread on Linux.
        let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, NICE) };
        if rc != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(), "could not lower the hashing thread's priority");
        }
    }
}
