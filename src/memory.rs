//! Process-wide allocator settings, applied once at the start of `main`.

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
