//! Process-wide allocator settings.

/// Allocations this large or larger get their own mapping, returned to the
/// system when freed.
const OWN_MAPPING_FROM: i32 = 1 << 20;

/// Makes large blocks go back to the system when freed.
///
/// glibc raises its mmap threshold to the size of the largest block freed
/// so far, so after the first argon2id check (19 MiB) later checks are
/// carved from the heap and their memory stays in the process: measured,
/// 14 sequential logins took the server from 19 MiB to 235 MiB RSS. A
/// fixed threshold turns dynamic adjustment off; with it the same logins
/// end at 21 MiB. Costs one mmap/munmap pair per login.
pub fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called
    // before the runtime starts any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING_FROM);
    }
}
