//! Shared helpers: runtimes, quiet expected panics, job bodies.

use std::sync::Once;
use std::time::Duration;

use tokio::runtime::Runtime;

/// A panic payload that is neither `&str` nor `String` (its message is `"Box<dyn Any>"`).
#[derive(Debug)]
pub(crate) struct ExpectedPanic;

/// Silences the default panic hook for the panics these tests cause on purpose (messages starting
/// with "expected panic", or an [`ExpectedPanic`] payload); other panics print as usual.
pub(crate) fn quiet_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let expected = payload.is::<ExpectedPanic>()
                || payload
                    .downcast_ref::<&str>()
                    .is_some_and(|s| s.starts_with("expected panic"))
                || payload
                    .downcast_ref::<String>()
                    .is_some_and(|s| s.starts_with("expected panic"));
            if !expected {
                default(info);
            }
        }));
    });
}

/// A current-thread runtime on tokio's paused clock (time auto-advances when every task waits).
pub(crate) fn paused_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime")
}

/// A job body that sleeps for `ms` milliseconds, then returns `value`.
pub(crate) async fn sleep_then<T>(ms: u64, value: T) -> Result<T, String> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(value)
}

/// Milliseconds.
pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
