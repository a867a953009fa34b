//! Proof that computing delays and a first-try success allocate nothing: a counting global
//! allocator records the allocations of the current thread while a closure runs.
//!
//! This is the only file of the crate with `unsafe`: implementing `GlobalAlloc` requires it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use baton_retry::{Jitter, Policy, Strategy, retry};

/// Forwards to the system allocator, counting allocations made on threads that are counting.
struct Counting;

thread_local! {
    /// `Some(n)` while the current thread counts: `n` allocations so far. Const-initialised and
    /// without a destructor, so reading it never allocates.
    static COUNT: Cell<Option<u64>> = const { Cell::new(None) };
}

fn note_allocation() {
    // `try_with`: the allocator may run while thread-locals are being torn down.
    let _ = COUNT.try_with(|c| {
        if let Some(n) = c.get() {
            c.set(Some(n + 1));
        }
    });
}

// SAFETY: every method forwards to `System`, which upholds `GlobalAlloc`'s contract; the counting
// touches only a thread-local `Cell` and never allocates or unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: the caller upholds `alloc`'s contract (non-zero size), passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: `ptr` was allocated by this allocator (so by `System`) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (so by `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The allocations the current thread makes while `f` runs.
fn allocations<R>(f: impl FnOnce() -> R) -> (u64, R) {
    COUNT.with(|c| c.set(Some(0)));
    let result = f();
    let count = COUNT.with(|c| c.replace(None)).unwrap_or(0);
    (count, result)
}

#[test]
fn the_counter_sees_allocations() {
    let (count, v) = allocations(|| vec![1u8; 16]);
    assert_eq!(v.len(), 16);
    assert_eq!(count, 1);
}

#[test]
fn ten_thousand_delays_allocate_nothing() {
    let ms = Duration::from_millis(1);
    let strategies = [
        Strategy::Fixed { delay: ms },
        Strategy::Exponential {
            initial: ms,
            factor: 1.5,
        },
        Strategy::Linear {
            initial: ms,
            increment: ms,
        },
        Strategy::Random {
            min: ms,
            max: 1000 * ms,
        },
    ];
    for strategy in strategies {
        for jitter in [
            Jitter::None,
            Jitter::Full,
            Jitter::Equal,
            Jitter::Decorrelated,
        ] {
            let policy = Policy::builder(strategy)
                .attempts(10_001)
                .max_delay(Duration::from_secs(60))
                .max_elapsed(Duration::from_secs(1_000_000))
                .jitter(jitter)
                .build()
                .unwrap();
            let (count, sum) = allocations(|| {
                // Unseeded (entropy) and seeded sources both.
                let unseeded: Duration = policy.delays().sum();
                let seeded = policy.delays_seeded(3).count();
                (unseeded, seeded)
            });
            assert_eq!(count, 0, "{strategy:?} {jitter:?}");
            assert_eq!(sum.1, 10_000);
        }
    }
}

#[test]
fn a_first_try_success_allocates_nothing() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let policies = [
        Policy::default(),
        Policy::fixed(Duration::from_millis(5))
            .max_elapsed(Duration::from_secs(1))
            .build()
            .unwrap(),
    ];
    runtime.block_on(async {
        for policy in &policies {
            // A success never yields, so nothing else runs on this thread while counting.
            let (count, value) = allocations(|| {
                let mut configured = retry(policy, || async { Ok::<_, ()>(42) });
                let future = std::pin::pin!(configured.run());
                let waker = std::task::Waker::noop();
                match future.poll(&mut std::task::Context::from_waker(waker)) {
                    std::task::Poll::Ready(result) => result.unwrap().value,
                    std::task::Poll::Pending => panic!("a first-try success completes at once"),
                }
            });
            assert_eq!((count, value), (0, 42), "{policy:?}");
        }
    });
}
