//! Process-wide allocator settings.

use std::time::Duration;

/// Allocations this large or larger get their own mapping, returned to the
/// system when freed.
const OWN_MAPPING_FROM: i32 = 1 << 20;

/// At most this many malloc arenas per core (glibc's default is 8).
const ARENAS_PER_CORE: usize = 2;

/// How often free memory inside the heaps goes back to the system.
const TRIM_EVERY: Duration = Duration::from_secs(30);

/// Makes large blocks go back to the system when freed, and bounds the
/// number of malloc arenas.
///
/// glibc raises its mmap threshold to the size of the largest block freed
/// so far, so after the first argon2id check (19 MiB) later checks are
/// carved from the heap and their memory stays in the process: measured,
/// 14 sequential logins took the server from 19 MiB to 235 MiB RSS. A
/// fixed threshold turns dynamic adjustment off; with it the same logins
/// end at 21 MiB. Costs one mmap/munmap pair per login.
///
/// Every thread that allocates while the arenas are busy gets an arena of
/// its own, up to 8 per core, and memory freed in one arena serves only
/// that arena's threads: store calls run on many blocking-pool threads, so
/// free memory was spread over 15 arenas of 7-19 MiB each.
pub fn configure_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = i32::try_from(cores * ARENAS_PER_CORE).unwrap_or(i32::MAX);
        // SAFETY: mallopt only changes allocator parameters; it is called
        // before the runtime starts any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING_FROM);
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

/// Starts a thread that hands free heap memory back to the system every
/// [`TRIM_EVERY`].
///
/// glibc returns memory only from the top of a heap; pages freed in the
/// middle stay in the process. Measured on the 100-client soak after 10
/// minutes: `malloc_trim(0)` took the server from 199 MiB to 97 MiB RSS, so
/// half of what looked like growth was free memory kept by the allocator.
/// A trim walks the arenas once (milliseconds) and costs page faults when
/// the memory is used again.
pub fn start_returning_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let spawned = std::thread::Builder::new()
            .name("letterbox-trim".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(TRIM_EVERY);
                    // SAFETY: malloc_trim has no preconditions.
                    unsafe {
                        libc::malloc_trim(0);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the memory trimmer: {e}");
        }
    }
}
